"""The Open Inference Protocol's pure parts (common/v2.py): tensors -> records, errors."""

from __future__ import annotations

import pytest

from modelops_bentos.common.v2 import (
    Tensor,
    V2Error,
    describe_validation,
    records_from_inputs,
    requested_outputs,
)

pytestmark = pytest.mark.unit

SPECS = [Tensor("a", "INT64"), Tensor("b", "BYTES"), Tensor("c", "FP64", optional=True)]


def tensor(name: str, datatype: str, data: list, shape: list | None = None) -> dict:
    return {"name": name, "datatype": datatype, "shape": shape or [len(data)], "data": data}


def test_columns_become_records_in_row_order() -> None:
    payload = {"inputs": [tensor("b", "BYTES", ["x", "y"]), tensor("a", "INT64", [1, 2])]}
    assert records_from_inputs(payload, SPECS) == [{"b": "x", "a": 1}, {"b": "y", "a": 2}]


def test_n_by_1_tensors_and_nested_data_are_columns_too() -> None:
    payload = {
        "inputs": [
            tensor("a", "INT64", [[1], [2]], [2, 1]),
            tensor("b", "BYTES", ["x", "y"], [2, 1]),
            tensor("c", "FP64", [0.5, None]),
        ]
    }
    assert records_from_inputs(payload, SPECS)[1] == {"a": 2, "b": "y", "c": None}


def test_an_empty_batch_is_no_records() -> None:
    payload = {"inputs": [tensor("a", "INT64", []), tensor("b", "BYTES", [])]}
    assert records_from_inputs(payload, SPECS) == []


@pytest.mark.parametrize(
    ("payload", "needle"),
    [
        ([], "inputs"),
        ({"inputs": {}}, "inputs"),
        ({"inputs": [tensor("a", "INT64", [1])]}, "missing b"),
        ({"inputs": [tensor("z", "INT64", [1])]}, "unknown input 'z'"),
        ({"inputs": ["a"]}, "unknown input None"),
        ({"inputs": [tensor("a", "FP64", [1]), tensor("b", "BYTES", ["x"])]}, "datatype 'FP64'"),
        ({"inputs": [tensor("a", "INT64", [1], [1, 2]), tensor("b", "BYTES", ["x"])]}, "shape"),
        ({"inputs": [tensor("a", "INT64", [1], [-1]), tensor("b", "BYTES", ["x"])]}, "shape"),
        ({"inputs": [tensor("a", "INT64", [1], [True]), tensor("b", "BYTES", ["x"])]}, "shape"),
        ({"inputs": [tensor("a", "INT64", [1, 2], [3]), tensor("b", "BYTES", ["x"])]},
         "2 values for shape [3]"),
        ({"inputs": [tensor("a", "INT64", [1, 2]), tensor("b", "BYTES", ["x"])]},
         "different batch sizes"),
        ({"inputs": [tensor("a", "INT64", [1]), tensor("a", "INT64", [1])]}, "given twice"),
        ({"inputs": [{"name": "a", "datatype": "INT64", "shape": [1]}]}, "no data"),
    ],
)  # fmt: skip
def test_malformed_requests_are_422_naming_the_tensor(payload, needle: str) -> None:
    with pytest.raises(V2Error) as refused:
        records_from_inputs(payload, SPECS)
    assert refused.value.status == 422
    assert needle in refused.value.message


def test_validation_errors_name_tensor_and_row() -> None:
    errors = [
        {"loc": ("records", 2, "orders"), "msg": "Input should be a valid integer"},
        {"loc": ("students", 0, "activity", "confidence"), "msg": "too big"},
        {"loc": ("records",), "msg": "too many"},
    ]
    assert describe_validation(errors) == (
        "invalid request: inputs.orders[2]: Input should be a valid integer; "
        "inputs.confidence[0]: too big; records: too many"
    )


def test_requested_outputs() -> None:
    outs = [Tensor("p", "FP64"), Tensor("q", "FP64")]
    assert requested_outputs({}, outs) == ["p", "q"]
    assert requested_outputs({"outputs": [{"name": "q"}]}, outs) == ["q"]
    for bad in ({"outputs": [{"name": "r"}]}, {"outputs": "p"}, {"outputs": ["p"]}):
        with pytest.raises(V2Error):
            requested_outputs(bad, outs)
