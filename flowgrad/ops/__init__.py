"""All primitives, registered on import. See ``flowgrad.core.ops`` for the registry."""

from ..core.engine import sum_to as _sum_to_array
from ..core.ops import RAW
from . import conv, elementwise, linalg, random, reduce, shape

# Rules may call these internal primitives through ``xp`` as if NumPy had them.
RAW.__dict__.update(
    sigmoid=elementwise.SIGMOID.forward,
    index_scatter=shape.INDEX_SCATTER.forward,
    sum_to=lambda x, shape: _sum_to_array(x, tuple(shape)),
    sum=reduce.sum_of_array,  # np.sum's digits without its Python dispatch (a rule's hot spot)
)

__all__ = ["conv", "elementwise", "linalg", "random", "reduce", "shape"]
