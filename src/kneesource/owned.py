"""Caches owned by what they describe: a value worked out from an engine or a model is kept on
that object, so it lives exactly as long as the object does (a module-level cache keyed by the
object would keep every engine ever made alive), and per-object LRU caches are bounded."""

from __future__ import annotations

import collections
import functools
import threading
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

T = TypeVar("T")
K = TypeVar("K", bound=Hashable)

_LOCK = threading.RLock()


def once_per(fn: Callable[[Any], T]) -> Callable[[Any], T]:
    """``fn(owner)`` computed once per owner and stored on it."""
    name = f"_owned_{fn.__module__}.{fn.__qualname__}"

    @functools.wraps(fn)
    def wrapper(owner: Any) -> T:
        store = owner.__dict__
        if name not in store:
            with _LOCK:
                if name not in store:
                    store[name] = fn(owner)
        value: T = store[name]
        return value

    return wrapper


def lru_per(maxsize: int) -> Callable[[Callable[[Any, K], T]], Callable[[Any, K], T]]:
    """``fn(owner, key)`` kept in a least-recently-used cache of ``maxsize`` entries on the
    owner."""

    def decorate(fn: Callable[[Any, K], T]) -> Callable[[Any, K], T]:
        name = f"_owned_{fn.__module__}.{fn.__qualname__}"

        @functools.wraps(fn)
        def wrapper(owner: Any, key: K) -> T:
            store = owner.__dict__
            with _LOCK:
                cache = store.setdefault(name, collections.OrderedDict())
                if key in cache:
                    cache.move_to_end(key)
                    found: T = cache[key]
                    return found
            value = fn(owner, key)
            with _LOCK:
                cache[key] = value
                while len(cache) > maxsize:
                    cache.popitem(last=False)
            return value

        def cache_clear(owner: Any) -> None:
            """Forget everything kept on ``owner``."""
            with _LOCK:
                owner.__dict__.pop(name, None)

        wrapper.cache_clear = cache_clear  # type: ignore[attr-defined]
        return wrapper

    return decorate
