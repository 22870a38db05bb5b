"""A same-host all-reduce for CPU ranks through one shared-memory segment.

gloo's all-reduce between two local processes costs about 1 ms whatever the size (its
transport and worker-thread hand-offs, not the bytes), which is as long as a small model's
whole training step. When every rank of a gloo group runs on one host, the ranks can instead
add each other's numbers straight out of shared memory: a few microseconds of waiting plus a
memory pass.

Who owns what: `open_group` (collective, at `Replica` setup) decides with the process group
whether the ranks share a host and creates the segment; the `SharedMemoryGroup` it returns
owns the segment until `close`. `ddp_hook` is the DDP communication hook that reduces each
gradient bucket through it; `current()` is the open group, which `reduction` uses for the
per-epoch metric and statistics sums. NCCL (GPUs), several hosts, other CPUs than x86-64 and
`set_enabled(False)` keep DDP's default all-reduce and gloo.

The segment: one file `/dev/shm/layerkit-allreduce-<random>` created by rank 0, opened by
every rank, and unlinked by rank 0 as soon as every rank has mapped it (the mappings stay
valid), so nothing is left in /dev/shm after a crash or a kill: only a rank killed during
those few milliseconds of setup can leave it. Layout: a header (a random token that proves
every rank opened the same file, then one 64-byte line per rank with its sequence number and
state), then two sets of slots (double buffering), one slot per rank each.

One reduction of a chunk (number `seq`): each rank writes its chunk into its slot of set
`seq % 2`, then publishes `seq`; once every rank's number is `seq`, each rank sums the slots in
rank order, so every rank gets bitwise the same result. A rank can start `seq + 1` while a
slower one still reads set `seq % 2`: it writes the other set; it cannot reach `seq + 2` (the
same set again) before every rank has published `seq + 1`, which each does only after it
finished reading `seq`.

Memory ordering: the flag must not become visible before the data it announces. This holds
on x86-64, whose stores become visible to other cores in program order (TSO, multi-copy
atomic, so also when torch copies the data on its intra-op threads before the joining
thread stores the flag; glibc's non-temporal large copies end with `sfence`) and whose loads
are not reordered with older loads; the data copy and the flag store are separate calls into
compiled code that no compiler can reorder. The flag is an aligned 8-byte store and load
(single-copy atomic). On weakly ordered CPUs (ARM, POWER) a reader could see the flag before
the data without barriers Python cannot issue, so there `open_group` answers None and gloo
is used.

Never a hang: a rank waiting for a peer spins for 200 us, then sleeps in the kernel on a
futex of the peer's sequence word (its publish wakes it; a sleep lasts at most 20 ms);
every 20 ms it checks that each missing peer's process is alive and has not closed or
aborted its group, and it raises `collectives.CollectiveError` (naming this rank, the peer
and what was being synchronised) when a peer died, left, or the group's collective timeout
passed. A rank that raised marks itself aborted so the others stop at once too.
"""

import ctypes
import mmap
import os
import platform
import secrets
import sys
import time

import numpy as np
import torch
import torch.distributed as dist

from . import collectives

PREFIX = "layerkit-allreduce-"
_HEADER = 4096  # token (16 bytes), then one 64-byte line per rank: [seq, state, ...]
_LINE = 8  # int64s per rank line
_OPEN, _CLOSED, _ABORTED = 0, 1, 2
_MAX_SLOT = 16 << 20  # bytes per rank slot; larger tensors go through in chunks
_MIN_SLOT = 64 << 10
_SPIN = 2e-4  # seconds of spinning before sleeping (sched_yield would hand the core to
# other processes for whole time slices: a woken futex waiter gets it back sooner)


class _Settings:
    enabled = True
    current = None


_SETTINGS = _Settings()


def set_enabled(flag):
    """Process-wide switch (benchmarks, debugging): False keeps DDP's default all-reduce and
    gloo for every replica created afterwards. Every rank must set the same value."""
    _SETTINGS.enabled = bool(flag)


def enabled():
    return _SETTINGS.enabled


def current():
    """The open `SharedMemoryGroup` of this process's replica, or None."""
    return _SETTINGS.current


def for_tensor(tensor):
    """The open group when it can take `tensor` whole (a CPU tensor that fits a slot), else
    None. The same answer on every rank when the ranks' tensors have the same shape."""
    group = _SETTINGS.current
    if group is None or tensor.device.type != "cpu":
        return None
    return group if tensor.numel() * tensor.element_size() <= group.slot_bytes else None


def supported_here():
    """True where this process could take part: Linux on x86-64 with /dev/shm, gloo."""
    return (_SETTINGS.enabled and sys.platform == "linux"
            and platform.machine() in ("x86_64", "AMD64") and os.path.isdir("/dev/shm")
            and dist.is_initialized() and dist.get_backend() == "gloo")


def open_group(nbytes, device=None):
    """Collective: a `SharedMemoryGroup` when every rank can use one (same host, CPU,
    x86-64, gloo, enabled), else None on every rank.

    Args:
        nbytes: the largest tensor the group will usually reduce at once (the model's
            gradient bytes); slots are at most 16 MiB, larger tensors go in chunks.
        device: this rank's device (None: the CPU); a rank on another device opts out.
    """
    world = collectives.world_size()
    if world == 1 or not dist.is_initialized() or dist.get_backend() != "gloo":
        return None  # the same answer on every rank: no collective needed
    rank = collectives.rank()
    slot = int(min(max(nbytes, _MIN_SLOT), _MAX_SLOT) + 63) // 64 * 64
    ready = supported_here() and (device is None or torch.device(device).type == "cpu")
    created = _create(slot, world) if rank == 0 and ready else None
    offer = None if created is None else (created[0], created[1], slot)
    offer = collectives.broadcast_object(offer, what="the shared-memory segment's name")
    segment = created[2] if created is not None else None
    try:
        if rank != 0 and offer is not None and ready:
            segment = _attach(*offer, world)
        me = (segment is not None, os.getpid(), _start_time(os.getpid()))
        everyone = collectives.all_gather_object(me, what="the shared-memory segment")
    finally:
        if created is not None:
            _unlink(created[0])  # every rank has mapped it (or failed): nothing to leave
    ok = all(ready for ready, _, _ in everyone) and all(
        _start_time(pid) == start for _, pid, start in everyone)
    if not ok:
        if segment is not None:
            segment.close()
        return None
    group = SharedMemoryGroup(segment, rank, world, [(p, s) for _, p, s in everyone])
    # a first sum through the segment: a barrier after rank 0's unlink
    group.all_reduce_sum_(torch.zeros(1), what="the shared-memory segment's setup")
    _SETTINGS.current = group
    return group


class SharedMemoryGroup:
    """All-reduce (sum) among the ranks of one host through a mapped segment.

    Args:
        segment: the `_Segment` every rank mapped.
        rank, world: this rank and the number of ranks.
        processes: `(pid, start time)` of every rank, by rank (liveness checks).
    """

    def __init__(self, segment, rank, world, processes):
        self._segment, self.rank, self.world = segment, rank, world
        self._processes = processes
        self._seq = 0
        self._failed = None

    def all_reduce_sum_(self, tensor, what, divide=1):
        """Sums the contiguous CPU `tensor` in place across ranks (after dividing each
        rank's values by `divide`, as DDP averages); returns it. Bitwise the same on every
        rank."""
        if self._failed is not None:
            raise collectives.CollectiveError(self._failed)
        flat = tensor.view(-1)
        step = self._segment.slot_bytes // flat.element_size()
        for start in range(0, flat.numel(), step):
            self._reduce_chunk(flat[start:start + step], what, divide)
        return tensor

    def all_reduce_sum_list_(self, tensors, what):
        """Sums each of `tensors` (any shapes and dtypes, CPU) in place: one reduction per
        dtype of their concatenation."""
        by_dtype = {}
        for tensor in tensors:
            by_dtype.setdefault(tensor.dtype, []).append(tensor)
        for group in by_dtype.values():
            flat = torch.cat([t.detach().reshape(-1) for t in group])
            self.all_reduce_sum_(flat, what)
            offset = 0
            with torch.no_grad():
                for tensor in group:
                    tensor.copy_(flat[offset:offset + tensor.numel()].view(tensor.shape))
                    offset += tensor.numel()
        return tensors

    @property
    def slot_bytes(self):
        return self._segment.slot_bytes

    def all_gather(self, tensor, what):
        """Every rank's CPU `tensor` (the same shape and dtype on every rank), stacked by
        rank: `(world, *shape)`, identical on every rank."""
        if self._failed is not None:
            raise collectives.CollectiveError(self._failed)
        flat = tensor.detach().reshape(-1)
        if flat.numel() * flat.element_size() > self._segment.slot_bytes:
            raise ValueError(f"shared-memory all_gather of {what}: {flat.numel()} elements "
                             f"exceed a slot of {self._segment.slot_bytes} bytes")
        self._seq += 1
        slots = self._segment.slots(self._seq % 2, flat.dtype, flat.numel())
        slots[self.rank].copy_(flat)
        self._segment.publish(self.rank, self._seq)
        self._wait(self._seq, what)
        return torch.stack(slots).view(self.world, *tensor.shape)

    def _reduce_chunk(self, chunk, what, divide):
        self._seq += 1
        seq, segment, n = self._seq, self._segment, chunk.numel()
        slots = segment.slots(seq % 2, chunk.dtype, n)
        if divide == 1:
            slots[self.rank].copy_(chunk)
        else:
            torch.div(chunk, divide, out=slots[self.rank])
        segment.publish(self.rank, seq)  # after the data: see the module's docstring
        self._wait(seq, what)
        torch.add(slots[0], slots[1], out=chunk)
        for slot in slots[2:]:
            chunk.add_(slot)

    def _wait(self, seq, what):
        segment = self._segment
        pending = [p for p in range(self.world) if p != self.rank]
        started = time.perf_counter()
        checked = 0.0
        while True:
            pending = [p for p in pending if segment.sequence(p) < seq]
            if not pending:
                return
            elapsed = time.perf_counter() - started
            if elapsed < _SPIN:  # a peer that is nearly there: no syscall, no sleep
                continue
            segment.sleep_until_changed(pending[0], seq, 0.02)  # woken by its publish
            if elapsed - checked >= 0.02:
                checked = elapsed
                self._check_peers(pending, seq, what, elapsed)

    def _check_peers(self, pending, seq, what, elapsed):
        for peer in pending:
            state = self._segment.state(peer)
            if self._segment.sequence(peer) >= seq:
                continue
            pid, start = self._processes[peer]
            if state == _ABORTED:
                problem = f"rank {peer} failed in a collective and stopped"
            elif state == _CLOSED:
                problem = f"rank {peer} left the group (its training ended or raised)"
            elif _start_time(pid) != start:
                problem = f"rank {peer} (process {pid}) exited"
            elif elapsed > collectives.timeout():
                problem = (f"rank {peer} did not arrive within the timeout of "
                           f"{collectives.timeout():g} s")
            else:
                continue
            self._fail(f"rank {self.rank} of {self.world}: synchronising {what} through shared "
                       f"memory failed: {problem}. Its traceback, if any, is in that rank's "
                       "output")

    def _fail(self, message):
        self._failed = message
        self._segment.set_state(self.rank, _ABORTED)
        raise collectives.CollectiveError(message)

    def close(self):
        """Marks this rank as gone and unmaps the segment (idempotent)."""
        if _SETTINGS.current is self:
            _SETTINGS.current = None
        if self._segment is not None:
            if self._failed is None:
                self._segment.set_state(self.rank, _CLOSED)
            self._segment.close()
            self._segment = None
        self._failed = self._failed or f"rank {self.rank}: the shared-memory group is closed"


def ddp_hook(group, bucket):
    """DDP communication hook: the bucket averaged over ranks through `group`, as DDP's
    default all-reduce would (each rank's gradients divided by the world size, then
    summed)."""
    tensor = bucket.buffer()
    group.all_reduce_sum_(tensor, what="gradients (DDP bucket %d)" % bucket.index(),
                          divide=group.world)
    future = torch.futures.Future()
    future.set_result(tensor)
    return future


class _Segment:
    """One mapped segment: header views and slot views (see the module's docstring)."""

    def __init__(self, fd, slot_bytes, world):
        self.slot_bytes, self._world = slot_bytes, world
        size = _HEADER + 2 * world * slot_bytes
        self._map = mmap.mmap(fd, size)
        self._header = np.frombuffer(self._map, dtype=np.int64, count=_HEADER // 8)
        self._address = self._header.ctypes.data
        self._views = {}
        self._data = torch.frombuffer(self._map, dtype=torch.uint8, offset=_HEADER,
                                      count=size - _HEADER)

    def token(self):
        return bytes(self._map[:16])

    def write_token(self, token):
        self._map[:16] = token

    def slots(self, parity, dtype, n):
        """Every rank's slot of set `parity`, as `n` elements of `dtype` (views, cached:
        DDP's buckets come back with the same sizes every step)."""
        key = (parity, dtype, n)
        views = self._views.get(key)
        if views is None:
            if len(self._views) > 64:
                self._views.clear()
            size = n * dtype.itemsize
            views = self._views[key] = [
                self._data[start:start + size].view(dtype) for start in
                ((parity * self._world + r) * self.slot_bytes for r in range(self._world))]
        return views

    def sequence(self, rank):
        return self._header[(rank + 1) * _LINE]

    def state(self, rank):
        return self._header[(rank + 1) * _LINE + 1]

    def publish(self, rank, seq):
        self._header[(rank + 1) * _LINE] = seq
        _FUTEX.wake(self._address + (rank + 1) * _LINE * 8)

    def sleep_until_changed(self, rank, seq, seconds):
        """Blocks (futex) until `rank` publishes, at most `seconds`."""
        value = int(self._header[(rank + 1) * _LINE])
        if value < seq:
            _FUTEX.wait(self._address + (rank + 1) * _LINE * 8, value, seconds)

    def set_state(self, rank, state):
        self._header[(rank + 1) * _LINE + 1] = state

    def close(self):
        self._header, self._data, self._views = None, None, {}  # release the exports first
        try:
            self._map.close()
        except BufferError:  # a view still held somewhere: the mapping goes with it
            pass


class _Timespec(ctypes.Structure):
    _fields_ = [("tv_sec", ctypes.c_long), ("tv_nsec", ctypes.c_long)]


class _Futex:
    """Linux futex wait and wake on the low 32 bits of a sequence word of the shared
    mapping (a shared, not private, futex: the kernel keys it by the file and offset, so it
    works across processes). A syscall costs about a microsecond; the waiter sleeps in the
    kernel instead of taking the CPU its peer may need."""

    _SYSCALL = 202  # SYS_futex on x86-64, the only CPU the segment is used on
    _WAIT, _WAKE = 0, 1

    def __init__(self):
        self._call = None

    def _syscall(self):
        if self._call is None:
            call = ctypes.CDLL(None, use_errno=True).syscall
            call.restype = ctypes.c_long
            self._call = call
        return self._call

    def wait(self, address, value, seconds):
        timeout = _Timespec(int(seconds), int((seconds % 1) * 1e9))
        self._syscall()(self._SYSCALL, ctypes.c_void_p(address), self._WAIT,
                        ctypes.c_uint32(value & 0xFFFFFFFF), ctypes.byref(timeout), None, 0)

    def wake(self, address):
        self._syscall()(self._SYSCALL, ctypes.c_void_p(address), self._WAKE,
                        ctypes.c_int(0x7FFFFFFF), None, None, 0)


_FUTEX = _Futex()


def _create(slot_bytes, world):
    """Rank 0: a new segment file; (path, token, segment) or None where that fails."""
    if world > _HEADER // (8 * _LINE) - 1:  # one header line per rank
        return None
    path = f"/dev/shm/{PREFIX}{secrets.token_hex(8)}"
    try:
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_RDWR, 0o600)
    except OSError:
        return None
    try:
        size = _HEADER + 2 * world * slot_bytes
        os.posix_fallocate(fd, 0, size)  # no SIGBUS later on a full /dev/shm
        segment = _Segment(fd, slot_bytes, world)
        token = secrets.token_bytes(16)
        segment.write_token(token)
        return path, token, segment
    except (OSError, ValueError):
        _unlink(path)
        return None
    finally:
        os.close(fd)


def _attach(path, token, slot_bytes, world):
    """Other ranks: the segment rank 0 created, or None when this rank cannot see it (another
    host, another /dev/shm)."""
    try:
        fd = os.open(path, os.O_RDWR)
    except OSError:
        return None
    try:
        if os.fstat(fd).st_size != _HEADER + 2 * world * slot_bytes:
            return None
        segment = _Segment(fd, slot_bytes, world)
    except (OSError, ValueError):
        return None
    finally:
        os.close(fd)
    if segment.token() != token:
        segment.close()
        return None
    return segment


def _unlink(path):
    try:
        os.unlink(path)
    except OSError:
        pass


def _start_time(pid):
    """The process's start time (clock ticks after boot), or None when it is gone or a
    zombie: (pid, start time) names one process even when pids are reused."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            fields = f.read().rsplit(b")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return None if fields[0] in (b"Z", b"X") else int(fields[19])
