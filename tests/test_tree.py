"""kerax.tree against keras.tree on the same structures."""

import collections

import numpy as np
import pytest

import kerax.tree as kt

Point = collections.namedtuple("Point", ["x", "y"])
STRUCTURES = [
    1,
    None,
    [1, None, 2],
    (1, [2, (3, None)]),
    {"b": 1, "a": [2, 3], "c": None},
    {"z": {"y": 1, "x": (2,)}},
    Point(1, [2, 3]),
    collections.OrderedDict([("b", 1), ("a", 2)]),
    [np.ones(2), {"k": np.zeros(1)}],
    [],
    {},
]
IDS = [f"s{i}" for i in range(len(STRUCTURES))]


def _same(ours, theirs):
    assert type(ours) is type(theirs)
    if isinstance(ours, np.ndarray):
        np.testing.assert_array_equal(ours, theirs)
    elif isinstance(ours, (list, tuple)):
        assert len(ours) == len(theirs)
        for o, t in zip(ours, theirs):
            _same(o, t)
    elif isinstance(ours, dict):
        assert list(ours) == list(theirs)
        for k in ours:
            _same(ours[k], theirs[k])
    else:
        assert ours == theirs


@pytest.mark.parametrize("s", STRUCTURES, ids=IDS)
def test_flatten_is_nested_and_paths(keras, s):
    _same(kt.flatten(s), keras.tree.flatten(s))
    assert kt.is_nested(s) == keras.tree.is_nested(s)
    ours = kt.flatten_with_path(s)
    theirs = keras.tree.flatten_with_path(s)
    assert [p for p, _ in ours] == [p for p, _ in theirs]


@pytest.mark.parametrize("s", STRUCTURES, ids=IDS)
def test_map_pack_and_lists_to_tuples(keras, s):
    def fn(x):
        return None if x is None else x * 2

    _same(kt.map_structure(fn, s), keras.tree.map_structure(fn, s))
    flat = list(range(len(keras.tree.flatten(s))))
    _same(kt.pack_sequence_as(s, flat), keras.tree.pack_sequence_as(s, flat))
    _same(kt.lists_to_tuples(s), keras.tree.lists_to_tuples(s))
    kt.assert_same_structure(s, s)
    kt.assert_same_paths(s, s)


def test_map_structure_several(keras):
    a, b = {"a": [1, 2], "b": 3}, {"a": [10, 20], "b": 30}
    _same(kt.map_structure(lambda x, y: x + y, a, b),
          keras.tree.map_structure(lambda x, y: x + y, a, b))


def test_map_structure_up_to(keras):
    shallow, deep = [0, {"a": 0}], [[1, 2], {"a": (3, 4)}]
    _same(kt.map_structure_up_to(shallow, len, deep), keras.tree.map_structure_up_to(shallow, len, deep))


@pytest.mark.parametrize("top_down", [True, False])
def test_traverse(keras, top_down):
    s = [1, (2, [3, None]), {"a": 4}]

    def fn(x):
        if isinstance(x, tuple):
            return keras.tree.MAP_TO_NONE if top_down else None
        return x + 1 if isinstance(x, int) else None

    def ours_fn(x):
        out = fn(x)
        return kt.MAP_TO_NONE if out is keras.tree.MAP_TO_NONE else out

    _same(kt.traverse(ours_fn, s, top_down=top_down), keras.tree.traverse(fn, s, top_down=top_down))


def test_map_shape_structure(keras):
    s = {"x": (2, None), "y": [(3,), (4, 5)]}
    _same(kt.map_shape_structure(len, s), keras.tree.map_shape_structure(len, s))


@pytest.mark.parametrize(
    "a,b", [([1, 2], [1]), ([1, (2,)], [1, [2]]), ({"a": 1}, {"b": 1}), (None, [None])]
)
def test_different_structures_raise_like_keras(keras, a, b):
    with pytest.raises(ValueError):
        keras.tree.assert_same_structure(a, b)
    with pytest.raises(ValueError, match="don't have the same nested structure"):
        kt.assert_same_structure(a, b)
    with pytest.raises(ValueError, match="don't have the same nested structure"):
        kt.map_structure(lambda x, y: x, a, b)


def test_errors():
    with pytest.raises(ValueError, match="Must provide at least one structure"):
        kt.map_structure(len)
    with pytest.raises(ValueError, match="Must provide at least one structure"):
        kt.map_structure_up_to([None], len)
    with pytest.raises(ValueError, match="don't have the same paths"):
        kt.assert_same_paths({"a": 1}, {"b": 1})
    with pytest.raises(ValueError, match="has 2 leaves but `flat_sequence` has 1"):
        kt.pack_sequence_as([0, 0], [1])
