from tests.layers.conformance import Case

# Keras' MultiHeadAttention/GroupQueryAttention take query and value as separate positional
# arguments, which the generic parity check (it passes one list) cannot do: their Keras
# parity is checked in test_attention_keras_parity.py.
_NO_GENERIC_PARITY = ("keras_parity",)
_QV = [(2, 4, 5), (2, 3, 5)]


def _mha(kwargs, shapes, **rest):
    return Case("MultiHeadAttention", kwargs, shapes, skip=_NO_GENERIC_PARITY, **rest)


def _gqa(kwargs, shapes, **rest):
    return Case("GroupQueryAttention", kwargs, shapes, skip=_NO_GENERIC_PARITY, **rest)


CASES = [
    _mha(dict(num_heads=2, key_dim=3), _QV, bad_input_shape=(2, 4, 6), grad=False),
    _mha(dict(num_heads=2, key_dim=3, value_dim=4, output_shape=8, use_bias=False),
         [(2, 4, 5), (2, 3, 6), (2, 3, 7)], id="key-valuedim-outshape", grad=False),
    _mha(dict(num_heads=2, key_dim=2, attention_axes=(1, 2)), [(2, 3, 2, 4)] * 2,
         id="2d-axes", grad=False),
    _mha(dict(num_heads=2, key_dim=3, use_gate=True), [(2, 4, 5)] * 2,
         call_kwargs=dict(use_causal_mask=True, return_attention_scores=True),
         id="causal-scores-gate", grad=False),
    _mha(dict(num_heads=1, key_dim=3, dropout=0.5, sliding_window=2), [(2, 4, 5)] * 2,
         training_parity=False, id="dropout-window", grad=False, vmap=False),
    _gqa(dict(head_dim=2, num_query_heads=4, num_key_value_heads=2), [(2, 4, 6), (2, 3, 6)], grad=False),
    _gqa(dict(head_dim=3, num_query_heads=2, num_key_value_heads=1, use_bias=False),
         [(2, 4, 6)] * 2, call_kwargs=dict(use_causal_mask=True), id="mqa-causal"),  # checks gradients
    Case("Attention", dict(use_scale=True), [(2, 3, 4), (2, 5, 4)]),
    Case("Attention", dict(score_mode="concat", use_scale=True),
         [(2, 3, 4), (2, 5, 4), (2, 5, 4)], call_kwargs=dict(return_attention_scores=True),
         id="concat-key"),
    Case("Attention", {}, [(2, 4, 4)] * 2, call_kwargs=dict(use_causal_mask=True),
         id="causal"),
    Case("AdditiveAttention", {}, [(2, 3, 4), (2, 5, 4)]),
    Case("AdditiveAttention", dict(use_scale=False, dropout=0.3), [(2, 3, 4), (2, 5, 4)],
         training_parity=False, id="noscale-dropout"),
    Case("EinsumDense", dict(equation="abc,cde->abde", output_shape=(None, 2, 3),
                             bias_axes="de"), (2, 5, 4), bad_input_shape=(2, 4)),
    Case("EinsumDense", dict(equation="...b,bc->...c", output_shape=3, activation="tanh"),
         (2, 5, 4), id="ellipsis"),
    Case("EinsumDense", dict(equation="ab,bc->ac", output_shape=3, bias_axes="c"), (2, 4),
         id="dense"),
    Case("EinsumDense", dict(equation="abc,cde->abde", output_shape=(None, 2, 3),
                             bias_axes="de", lora_rank=2, lora_alpha=4), (2, 5, 4), id="lora"),
]
