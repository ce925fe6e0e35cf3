"""nn.RNN / LSTM / GRU and their cells against torch.nn: same weights (state_dict both ways),
same inputs -> same outputs and gradients (input, initial states, every parameter), float64.
Plus central differences, dropout between layers, and the errors for wrong shapes."""

import itertools
import warnings

import numpy as np
import pytest

import flowgrad as fg
from flowgrad import nn

pytestmark = pytest.mark.numeric  # rounding-dependent: compared with torch in the same run

torch = pytest.importorskip("torch")
tnn = torch.nn

TOL = dict(rtol=1e-9, atol=1e-12)  # float64 both sides; the same formulas, only summation order differs
SEQ, BATCH, IN, HID = 4, 3, 3, 5

KINDS = {  # name: (flowgrad class, torch class, extra constructor arguments)
    "rnn_tanh": (nn.RNN, tnn.RNN, {}),
    "rnn_relu": (nn.RNN, tnn.RNN, {"nonlinearity": "relu"}),
    "lstm": (nn.LSTM, tnn.LSTM, {}),
    "lstm_proj": (nn.LSTM, tnn.LSTM, {"proj_size": 2}),
    "gru": (nn.GRU, tnn.GRU, {}),
}


def make_pair(kind, **kwargs):
    """A torch module and its flowgrad twin holding the torch weights, both float64."""
    fg_cls, t_cls, extra = KINDS[kind]
    kwargs = {**extra, **kwargs}
    t_m = t_cls(IN, HID, **kwargs).double()
    fg_m = fg_cls(IN, HID, **kwargs).double()
    assert list(fg_m.state_dict()) == list(t_m.state_dict())  # the same names, in the same order
    fg_m.load_state_dict({k: v.detach().numpy().copy() for k, v in t_m.state_dict().items()})
    return fg_m, t_m


def leaf(a):
    return fg.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)


def check_close(fg_value, t_value, what):
    assert fg_value is not None and t_value is not None, what
    np.testing.assert_allclose(np.asarray(fg_value), t_value.detach().numpy(), err_msg=what, **TOL)


def run_and_compare(fg_m, t_m, x, hx):
    """Forward both, backward a random weighting of every output, compare values and gradients."""
    xf, xt = leaf(x)
    lstm = isinstance(t_m, tnn.LSTM)
    hf = ht = None
    if hx is not None:
        pairs = [leaf(h) for h in hx]
        hf = tuple(p[0] for p in pairs) if lstm else pairs[0][0]
        ht = tuple(p[1] for p in pairs) if lstm else pairs[0][1]
    out_f, state_f = fg_m(xf, hf)
    out_t, state_t = t_m(xt, ht)
    outs_f = [out_f, *(state_f if lstm else [state_f])]
    outs_t = [out_t, *(state_t if lstm else [state_t])]
    rng = np.random.default_rng(3)
    loss_f, loss_t = 0, 0
    for k, (of, ot) in enumerate(zip(outs_f, outs_t)):
        assert of.shape == tuple(ot.shape), f"output {k}: {of.shape} vs {tuple(ot.shape)}"
        check_close(of.detach(), ot, f"output {k}")
        w = rng.standard_normal(of.shape)
        loss_f = loss_f + (of * fg.tensor(w)).sum()
        loss_t = loss_t + (ot * torch.tensor(w)).sum()
    loss_f.backward()
    loss_t.backward()
    check_close(xf.grad, xt.grad, "input grad")
    if hx is not None:
        for k, (a, b) in enumerate(zip(hf if lstm else [hf], ht if lstm else [ht])):
            check_close(a.grad, b.grad, f"state {k} grad")
    t_params = dict(t_m.named_parameters())
    assert [n for n, _ in fg_m.named_parameters()] == list(t_params)
    for name, p in fg_m.named_parameters():
        check_close(p.grad, t_params[name].grad, f"grad of {name}")


def states(kind, layers, directions, batch, rng):
    """Random initial states of the shapes torch wants (None for the unbatched-less axis)."""
    lead = (layers * directions,) + (() if batch is None else (batch,))
    h_size = 2 if kind == "lstm_proj" else HID
    h0 = rng.standard_normal(lead + (h_size,))
    return (h0, rng.standard_normal(lead + (HID,))) if kind.startswith("lstm") else (h0,)


COMBOS = list(itertools.product(KINDS, (1, 2), (False, True), (False, True), (True, False), (False, True)))


@pytest.mark.parametrize("kind,layers,bidirectional,batch_first,bias,with_hx", COMBOS)
def test_batched_matches_torch(kind, layers, bidirectional, batch_first, bias, with_hx):
    fg_m, t_m = make_pair(kind, num_layers=layers, bidirectional=bidirectional, batch_first=batch_first, bias=bias)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((BATCH, SEQ, IN) if batch_first else (SEQ, BATCH, IN))
    hx = states(kind, layers, 2 if bidirectional else 1, BATCH, rng) if with_hx else None
    run_and_compare(fg_m, t_m, x, hx)


@pytest.mark.parametrize(
    "kind,layers,bidirectional,with_hx", list(itertools.product(KINDS, (1, 2), (False, True), (False, True)))
)
def test_unbatched_matches_torch(kind, layers, bidirectional, with_hx):
    for batch_first in (False, True):  # no batch dim: batch_first changes nothing, in torch too
        fg_m, t_m = make_pair(kind, num_layers=layers, bidirectional=bidirectional, batch_first=batch_first)
        rng = np.random.default_rng(1)
        hx = states(kind, layers, 2 if bidirectional else 1, None, rng) if with_hx else None
        run_and_compare(fg_m, t_m, rng.standard_normal((SEQ, IN)), hx)


def test_one_step_and_an_empty_batch_match_torch():
    fg_m, t_m = make_pair("lstm", num_layers=2, bidirectional=True)
    run_and_compare(fg_m, t_m, np.random.default_rng(2).standard_normal((1, 2, IN)), None)
    out, (h, c) = fg_m(fg.zeros(SEQ, 0, IN, dtype=fg.float64))
    out_t, (h_t, c_t) = t_m(torch.zeros(SEQ, 0, IN, dtype=torch.float64))
    assert (out.shape, h.shape, c.shape) == (tuple(out_t.shape), tuple(h_t.shape), tuple(c_t.shape))


@pytest.mark.parametrize("kind", KINDS)
def test_state_dict_goes_to_torch_and_back(kind):
    fg_m = KINDS[kind][0](IN, HID, num_layers=2, bidirectional=True, **KINDS[kind][2]).double()
    t_m = KINDS[kind][1](IN, HID, num_layers=2, bidirectional=True, **KINDS[kind][2]).double()
    t_m.load_state_dict({k: torch.from_numpy(v.numpy().copy()) for k, v in fg_m.state_dict().items()})
    for name, value in fg_m.state_dict().items():
        np.testing.assert_array_equal(value.numpy(), t_m.state_dict()[name].numpy(), err_msg=name)
    x = np.random.default_rng(4).standard_normal((SEQ, BATCH, IN))
    out_f, out_t = fg_m(x)[0], t_m(torch.tensor(x))[0]
    check_close(out_f.detach(), out_t, "output after loading flowgrad weights into torch")


@pytest.mark.parametrize("kind", KINDS)
def test_initialisation_is_torchs_uniform(kind):
    fg_cls, _, extra = KINDS[kind]
    fg.manual_seed(0)
    a = fg_cls(IN, 16, num_layers=2, **extra)
    fg.manual_seed(0)
    b = fg_cls(IN, 16, num_layers=2, **extra)
    bound = 1 / np.sqrt(16)
    for (name, p), q in zip(a.named_parameters(), b.parameters()):
        values = p.numpy()
        assert np.all(np.abs(values) <= bound), name
        assert np.abs(values).max() > 0.5 * bound, name  # spread over the range, not a constant
        np.testing.assert_array_equal(values, q.numpy())  # follows fg.manual_seed


def test_dropout_between_layers_eval_mode_equals_torch():
    for kind in ("lstm", "gru", "rnn_tanh"):
        fg_m, t_m = make_pair(kind, num_layers=3, dropout=0.4, bidirectional=True)
        fg_m.eval()
        t_m.eval()
        run_and_compare(fg_m, t_m, np.random.default_rng(5).standard_normal((SEQ, BATCH, IN)), None)


def test_dropout_between_layers_in_training():
    x = fg.tensor(np.random.default_rng(6).standard_normal((6, 4, IN)))
    lstm = nn.LSTM(IN, HID, num_layers=2, dropout=0.5).double()
    lstm.eval()
    out_eval, (h_eval, c_eval) = lstm(x)
    lstm.train()
    fg.manual_seed(1)
    out_a, (h_a, _) = lstm(x)
    fg.manual_seed(1)
    out_b, _ = lstm(x)
    np.testing.assert_array_equal(out_a.numpy(), out_b.numpy())  # follows fg.manual_seed
    assert not np.allclose(out_a.numpy(), out_eval.numpy())  # training mode drops
    np.testing.assert_array_equal(h_a.numpy()[0], h_eval.numpy()[0])  # nothing before the first layer's output

    # dropout=1 zeroes every input of layer 2: its output is that of layer 2 run on zeros
    full = nn.GRU(IN, HID, num_layers=2, dropout=1.0).double()
    top = nn.GRU(HID, HID).double()
    top.load_state_dict({k.replace("l1", "l0"): v for k, v in full.state_dict().items() if "l1" in k})
    out, _ = full(x)
    expected, _ = top(fg.zeros(6, 4, HID, dtype=fg.float64))
    np.testing.assert_allclose(out.numpy(), expected.numpy(), **TOL)


def test_dropout_with_one_layer_warns_as_torch():
    with pytest.warns(UserWarning, match="num_layers=1"):
        nn.LSTM(IN, HID, dropout=0.2)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        nn.LSTM(IN, HID, num_layers=2, dropout=0.2)


@pytest.mark.parametrize("kind", ["rnn_tanh", "lstm_proj", "gru"])
def test_gradients_against_central_differences(kind):
    fg_cls, _, extra = KINDS[kind]
    fg.manual_seed(3)
    m = fg_cls(2, 3, num_layers=2, bidirectional=True, batch_first=True, **extra).double()
    rng = np.random.default_rng(7)
    x = fg.tensor(rng.standard_normal((2, 3, 2)), requires_grad=True)
    h_size = 2 if kind == "lstm_proj" else 3
    h0 = fg.tensor(rng.standard_normal((4, 2, h_size)), requires_grad=True)
    inputs = [x, h0]
    if kind.startswith("lstm"):
        inputs.append(fg.tensor(rng.standard_normal((4, 2, 3)), requires_grad=True))
    params = list(m.parameters())

    def f(*args):
        hx = (args[1], args[2]) if kind.startswith("lstm") else args[1]
        out, state = m(args[0], hx)
        return [out, *(state if isinstance(state, tuple) else [state])]

    # the parameters are inputs too: gradcheck nudges them in place, and m reads them
    assert fg.testing.gradcheck(f, (*inputs, *params), eps=1e-6, atol=1e-7, rtol=1e-5)


# ----- cells ----------------------------------------------------------------------------------------------
CELLS = {
    "rnn_tanh": (nn.RNNCell, tnn.RNNCell, {}),
    "rnn_relu": (nn.RNNCell, tnn.RNNCell, {"nonlinearity": "relu"}),
    "lstm": (nn.LSTMCell, tnn.LSTMCell, {}),
    "gru": (nn.GRUCell, tnn.GRUCell, {}),
}


@pytest.mark.parametrize(
    "kind,bias,with_hx,batched", list(itertools.product(CELLS, (True, False), (False, True), (True, False)))
)
def test_cells_match_torch(kind, bias, with_hx, batched):
    fg_cls, t_cls, extra = CELLS[kind]
    t_m = t_cls(IN, HID, bias=bias, **extra).double()
    fg_m = fg_cls(IN, HID, bias=bias, **extra).double()
    assert list(fg_m.state_dict()) == list(t_m.state_dict())
    fg_m.load_state_dict({k: v.detach().numpy().copy() for k, v in t_m.state_dict().items()})
    rng = np.random.default_rng(8)
    lead = (BATCH,) if batched else ()
    xf, xt = leaf(rng.standard_normal(lead + (IN,)))
    n_states = 2 if kind == "lstm" else 1
    pairs = [leaf(rng.standard_normal(lead + (HID,))) for _ in range(n_states)] if with_hx else None
    if pairs is None:
        hf = ht = None
    elif kind == "lstm":
        hf, ht = (pairs[0][0], pairs[1][0]), (pairs[0][1], pairs[1][1])
    else:
        hf, ht = pairs[0]
    of, ot = fg_m(xf, hf), t_m(xt, ht)
    of, ot = (list(of), list(ot)) if kind == "lstm" else ([of], [ot])
    rng_w = np.random.default_rng(9)
    loss_f, loss_t = 0, 0
    for a, b in zip(of, ot):
        assert a.shape == tuple(b.shape)
        check_close(a.detach(), b, "cell output")
        w = rng_w.standard_normal(a.shape)
        loss_f, loss_t = loss_f + (a * fg.tensor(w)).sum(), loss_t + (b * torch.tensor(w)).sum()
    loss_f.backward()
    loss_t.backward()
    check_close(xf.grad, xt.grad, "input grad")
    for a, b in pairs or []:
        check_close(a.grad, b.grad, "state grad")
    t_params = dict(t_m.named_parameters())
    for name, p in fg_m.named_parameters():
        check_close(p.grad, t_params[name].grad, name)


def test_cells_and_layers_print_as_torch():
    pairs = [
        (nn.LSTM(3, 4, 2, proj_size=2, bidirectional=True, batch_first=True, dropout=0.1),
         tnn.LSTM(3, 4, 2, proj_size=2, bidirectional=True, batch_first=True, dropout=0.1)),
        (nn.GRU(3, 4, bias=False), tnn.GRU(3, 4, bias=False)),
        (nn.GRUCell(3, 4), tnn.GRUCell(3, 4)),
        (nn.RNNCell(3, 4, bias=False, nonlinearity="relu"), tnn.RNNCell(3, 4, bias=False, nonlinearity="relu")),
    ]  # fmt: skip
    for a, b in pairs:
        assert repr(a) == repr(b)


# ----- errors -----------------------------------------------------------------------------------------------
def test_wrong_shapes_are_clear_errors():
    lstm = nn.LSTM(3, 4, num_layers=2)
    with pytest.raises(fg.ShapeError, match=r"LSTM\(3, 4\).*5 features.*input_size=3"):
        lstm(fg.zeros(6, 2, 5))
    with pytest.raises(fg.ShapeError, match=r"expected a 3-D input.*got shape \(6, 2, 3, 1\)"):
        lstm(fg.zeros(6, 2, 3, 1))
    with pytest.raises(fg.ShapeError, match="empty"):
        lstm(fg.zeros(0, 2, 3))
    with pytest.raises(fg.ShapeError, match=r"expected h0 of shape \(2, 2, 4\), got \(1, 2, 4\)"):
        lstm(fg.zeros(6, 2, 3), (fg.zeros(1, 2, 4), fg.zeros(2, 2, 4)))
    with pytest.raises(fg.ShapeError, match=r"c0 of shape \(2, 2, 4\), got \(2, 3, 4\)"):
        lstm(fg.zeros(6, 2, 3), (fg.zeros(2, 2, 4), fg.zeros(2, 3, 4)))
    with pytest.raises(fg.ShapeError, match=r"no batch dim.*\(2, 4\), got \(2, 1, 4\)"):
        lstm(fg.zeros(6, 3), (fg.zeros(2, 1, 4), fg.zeros(2, 1, 4)))
    with pytest.raises(fg.DTypeError, match=r"pair \(h0, c0\)"):
        lstm(fg.zeros(6, 2, 3), fg.zeros(2, 2, 4))
    with pytest.raises(fg.DTypeError, match="hx"):
        nn.GRU(3, 4)(fg.zeros(6, 2, 3), (fg.zeros(1, 2, 4),))
    with pytest.raises(fg.ShapeError, match=r"GRUCell\(3, 4\): input has 5 features, expected 3"):
        nn.GRUCell(3, 4)(fg.zeros(2, 5))
    with pytest.raises(fg.ShapeError, match=r"expected hx of shape \(2, 4\), got \(3, 4\)"):
        nn.RNNCell(3, 4)(fg.zeros(2, 3), fg.zeros(3, 4))
    with pytest.raises(fg.ShapeError, match="1 or 2 dims"):
        nn.LSTMCell(3, 4)(fg.zeros(1, 2, 3))


def test_wrong_arguments_are_clear_errors():
    with pytest.raises(fg.ArgumentError, match="nonlinearity"):
        nn.RNN(3, 4, nonlinearity="sigmoid")
    with pytest.raises(fg.ArgumentError, match="proj_size is an LSTM option"):
        nn.RNNBase("GRU", 3, 4, proj_size=2)
    with pytest.raises(fg.ArgumentError, match="proj_size must be smaller than hidden_size"):
        nn.LSTM(3, 4, proj_size=4)
    with pytest.raises(fg.ArgumentError, match="dropout"):
        nn.GRU(3, 4, num_layers=2, dropout=1.5)
    with pytest.raises(fg.ArgumentError, match="hidden_size must be >= 1"):
        nn.LSTM(3, 0)
    with pytest.raises(fg.ArgumentError, match="num_layers"):
        nn.GRU(3, 4, num_layers=0)
    with pytest.raises(fg.DTypeError, match="floating"):
        nn.RNN(3, 4)(fg.tensor(np.zeros((2, 3), dtype=np.int64)))


def test_float32_layer_takes_float64_input_and_trains():
    lstm = nn.LSTM(3, 4, batch_first=True)
    out, (h, c) = lstm(np.random.default_rng(0).standard_normal((2, 5, 3)))
    assert out.dtype == fg.float32 and h.dtype == fg.float32
    out.sum().backward()
    assert all(p.grad is not None and p.grad.dtype == fg.float32 for p in lstm.parameters())
    assert len(lstm.all_weights) == 1 and len(lstm.all_weights[0]) == 4
    lstm.flatten_parameters()  # PyTorch programs call it; a no-op here


def test_functional_call_grad_and_compile_work_through_the_loop():
    net = nn.GRU(3, 4, 2).double()
    params = {k: v.numpy().copy() for k, v in net.state_dict().items()}
    x = np.random.default_rng(0).standard_normal((5, 2, 3))
    grads = fg.grad(lambda p: (fg.func.functional_call(net, p, (x,))[0] ** 2).sum())(params)
    (net(x)[0] ** 2).sum().backward()
    for name, p in net.named_parameters():
        np.testing.assert_allclose(np.asarray(grads[name]), p.grad.numpy(), rtol=1e-12, err_msg=name)

    def train(compiled):  # dropout between layers draws a new mask on every replay
        fg.manual_seed(0)
        lstm = nn.LSTM(3, 4, 2, dropout=0.3, batch_first=True).double()
        opt = fg.optim.SGD(lstm.parameters(), lr=0.1)

        def step(x):
            opt.zero_grad()
            loss = (lstm(x)[0] ** 2).mean()
            loss.backward()
            opt.step()
            return loss

        f = fg.compile(step) if compiled else step
        return [f(x.swapaxes(0, 1)).item() for _ in range(3)]

    assert train(True) == train(False)  # replaying the trace is bit-identical to eager mode
