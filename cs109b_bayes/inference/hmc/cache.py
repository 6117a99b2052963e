"""The compiled-sampler cache: re-running `sample_hmc` on the same model does not recompile.

Tracing `log_prob_fn` and XLA-compiling NUTS takes seconds. `sample_hmc` keeps
each compiled sampler in a bounded LRU cache under a structural key (the
`cs109b_bayes.inference.hmc.fingerprint` of `log_prob_fn`, plus every option that
changes the compiled graph), so running a notebook cell again, which re-defines
`log_prob_fn` and re-creates the tensors it captures, reuses it.

The cache holds at most `MAX_ENTRIES` compiled samplers, least recently used out
first; an entry keeps its `log_prob_fn` and the objects its key names by identity
alive until it is evicted or `clear_cache()` is called. Pure Python: importing this
module does not import TensorFlow.

#### Examples

```python
from cs109b_bayes.inference import hmc
hmc.cache_info()        # CacheInfo(hits=..., misses=..., size=..., max_entries=16)
hmc.clear_cache()       # forget every compiled sampler
```
"""

import collections
import threading

from cs109b_bayes.inference import validation

__all__ = ["MAX_ENTRIES", "CacheInfo", "LRUCache", "cache_info", "clear_cache", "lookup", "store"]

MAX_ENTRIES = 16

CacheInfo = collections.namedtuple("CacheInfo", ["hits", "misses", "size", "max_entries"])


class LRUCache:
    """A thread-safe mapping that keeps its `max_entries` most recently used items.

    Args:
        max_entries: the bound. Default value: `MAX_ENTRIES`.

    Raises:
        ValueError: if `max_entries` is not an integer >= 1.

    #### Examples

    ```python
    lru = LRUCache(2)
    lru.put("a", 1); lru.put("b", 2); lru.put("c", 3)
    lru.get("a"), len(lru)          # (None, 2)
    ```
    """

    def __init__(self, max_entries=MAX_ENTRIES):
        self.max_entries = validation.check_count("max_entries", max_entries)
        self._items = collections.OrderedDict()
        self._lock = threading.Lock()
        self._hits = self._misses = 0

    def get(self, key):
        """The value stored under `key` (now the most recently used), or None."""
        with self._lock:
            if key not in self._items:
                self._misses += 1
                return None
            self._hits += 1
            self._items.move_to_end(key)
            return self._items[key]

    def put(self, key, value):
        """Stores `value` under `key`, evicting the least recently used items beyond the bound."""
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self.max_entries:
                self._items.popitem(last=False)

    def clear(self):
        """Forgets every item and resets the counters."""
        with self._lock:
            self._items.clear()
            self._hits = self._misses = 0

    def info(self):
        """A `CacheInfo(hits, misses, size, max_entries)`."""
        with self._lock:
            return CacheInfo(self._hits, self._misses, len(self._items), self.max_entries)

    def __len__(self):
        return len(self._items)


_SAMPLERS = LRUCache(MAX_ENTRIES)


def lookup(key):
    """The compiled sampler stored under `key` (see `store`), or None.

    #### Examples

    ```python
    runner = lookup(key)
    ```
    """
    entry = _SAMPLERS.get(key)
    return None if entry is None else entry[0]


def store(key, sampler, pinned=()):
    """Keeps `sampler` under `key`, with the objects the key names by identity.

    Args:
        key: a hashable key, e.g. built with `fingerprint.fingerprint`.
        sampler: the compiled sampler.
        pinned: objects kept alive with the entry. Default value: ().

    Returns:
        None.

    #### Examples

    ```python
    key, pinned = fingerprint.fingerprint(log_prob_fn)
    store(key, runner, pinned)
    ```
    """
    _SAMPLERS.put(key, (sampler, tuple(pinned)))


def clear_cache():
    """Forgets every compiled sampler (the next `sample_hmc` call compiles again).

    Returns:
        None.

    #### Examples

    ```python
    cs109b_bayes.inference.hmc.clear_cache()
    ```
    """
    _SAMPLERS.clear()


def cache_info():
    """Hits, misses, size and bound of the compiled-sampler cache.

    Returns:
        A `CacheInfo(hits, misses, size, max_entries)`.

    #### Examples

    ```python
    cs109b_bayes.inference.hmc.cache_info().size
    ```
    """
    return _SAMPLERS.info()
