"""The public surface never drifts by accident."""

import rxsse
import rxsse.errors


def test_top_level_names() -> None:
    assert sorted(rxsse.__all__) == sorted(
        [
            "ReconnectPolicy",
            "SSEDecoder",
            "ServerSentEvent",
            "collect",
            "errors",
            "from_async_iterable",
            "from_bytes",
            "from_ndjson_url",
            "from_url",
            "to_async_iterable",
            "to_iterator",
        ]
    )
    for name in rxsse.__all__:
        assert getattr(rxsse, name) is not None


def test_error_tree_has_one_root() -> None:
    for name in rxsse.errors.__all__:
        cls = getattr(rxsse.errors, name)
        assert issubclass(cls, rxsse.errors.RxSSEError), name
        assert name in (rxsse.errors.__doc__ or ""), f"{name} missing from the drawn tree"


def test_errors_derive_from_natural_builtins() -> None:
    errors = rxsse.errors
    assert issubclass(errors.LineTooLong, ValueError)
    assert issubclass(errors.EventDataNotJSON, ValueError)
    assert issubclass(errors.SSEStatusError, ConnectionError)
    assert issubclass(errors.StreamStalled, TimeoutError)
    assert issubclass(errors.BufferOverflowError, OverflowError)
