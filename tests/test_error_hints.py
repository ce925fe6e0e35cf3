"""Where the fix for a mistake is known, the error says it."""

import pytest

import flowgrad as fg
from flowgrad import nn


@pytest.mark.parametrize("model", [nn.Linear(2, 2), nn.Sequential(nn.Linear(2, 2))], ids=["Linear", "Sequential"])
def test_an_optimizer_given_the_model_suggests_its_parameters(model):
    with pytest.raises(fg.DTypeError, match=r"pass model\.parameters\(\)"):
        fg.optim.Adam(model)
    fg.optim.Adam(model.parameters())  # the fix works


def test_a_layer_class_instead_of_a_layer_suggests_calling_it():
    with pytest.raises(fg.DTypeError, match=r"write ReLU\(\) \(a layer object\), not the class ReLU"):
        nn.Sequential(nn.Linear(2, 2), nn.ReLU)


def test_a_shape_error_inside_sequential_names_the_layer():
    net = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Sequential(nn.Linear(4, 1)))
    with pytest.raises(
        fg.ShapeError, match=r"Sequential layer 2 \(Sequential\): Sequential layer 0 \(Linear\): linear"
    ):
        net(fg.ones(5, 2))
