//! The shard's own io_uring for sockets, and its provided-buffer ring.
//!
//! Why a ring of our own next to glommio's (measured; see
//! `shared/notes/socket-path.md` and the README): glommio 0.9's `TcpStream`
//! issues a `recvfrom` and a `sendto` syscall per request besides its ring
//! traffic, about memcached's CPU cost per request. A ring we drive ourselves
//! gives multishot accept, multishot receive into provided buffers and one
//! batched submit per turn, with
//! - `SINGLE_ISSUER | DEFER_TASKRUN`: completions are posted only when we
//!   enter the ring, on our own thread (the largest single effect measured);
//! - `TASKRUN_FLAG`: the kernel tells us when deferred work is waiting, so a
//!   turn with nothing to submit and nothing pending makes no syscall;
//! - an eventfd the kernel signals when work arrives while we sleep; the
//!   shard waits on it through glommio (see `server::shard`), so glommio
//!   timers and channels wake the shard too. It is disabled while the shard
//!   is busy, so a busy shard takes no eventfd wake-ups.
//!
//! This module knows io_uring, not connections: it hands out completions and
//! takes submissions, with [`Token`] as the bridge.

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

use io_uring::{cqueue, squeue, types, IoUring};

/// What an operation in flight is, packed into its `user_data`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpKind {
    /// Multishot accept on listener `index`.
    Accept = 1,
    /// Multishot receive on a connection.
    Recv = 2,
    /// A send of a connection's pending output.
    Send = 3,
    /// Cancellation of a connection's receive (pausing a flooding client).
    CancelRecv = 4,
}

/// Identifies an operation's owner: the op kind, a slot index (connection or
/// listener) and the slot's generation, so that a completion arriving for a
/// slot reused since is recognised and dropped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Token {
    pub kind: OpKind,
    pub index: u32,
    pub generation: u32,
}

impl Token {
    const GENERATION_BITS: u32 = 24;

    /// Packs the token into `user_data`.
    pub fn pack(self) -> u64 {
        (self.kind as u64) << 56
            | u64::from(self.generation & ((1 << Self::GENERATION_BITS) - 1)) << 32
            | u64::from(self.index)
    }

    /// Unpacks `user_data`; `None` for values this module never produces.
    pub fn unpack(data: u64) -> Option<Token> {
        let kind = match data >> 56 {
            1 => OpKind::Accept,
            2 => OpKind::Recv,
            3 => OpKind::Send,
            4 => OpKind::CancelRecv,
            _ => return None,
        };
        Some(Token {
            kind,
            index: data as u32,
            generation: ((data >> 32) as u32) & ((1 << Self::GENERATION_BITS) - 1),
        })
    }

    /// Whether this token's generation matches `generation` (compared in the
    /// bits a token keeps).
    pub fn is_generation(self, generation: u32) -> bool {
        self.generation == generation & ((1 << Self::GENERATION_BITS) - 1)
    }
}

/// Ring sizes. The completion queue is larger than the submission queue
/// because every multishot operation may post many completions per submit.
#[derive(Debug, Clone, Copy)]
pub struct RingSizes {
    pub submission_entries: u32,
    pub completion_entries: u32,
    /// Buffers in the provided-buffer ring (a power of two ≤ 32768).
    pub buffers: u16,
    /// Size of each provided buffer.
    pub buffer_size: u32,
}

impl Default for RingSizes {
    fn default() -> Self {
        RingSizes {
            submission_entries: 1024,
            completion_entries: 8192,
            buffers: 512,
            buffer_size: 4 * 1024,
        }
    }
}

/// The buffer group id of our only provided-buffer ring.
pub const BUFFER_GROUP: u16 = 0;

/// A shard's socket ring.
pub struct Ring {
    ring: IoUring,
    eventfd: OwnedFd,
    eventfd_enabled: bool,
    buffers: BufferRing,
}

impl Ring {
    /// Creates the ring on the calling thread (it becomes the only thread
    /// allowed to submit), its eventfd and its provided buffers.
    pub fn new(sizes: RingSizes) -> io::Result<Ring> {
        let ring = IoUring::builder()
            .setup_single_issuer()
            .setup_defer_taskrun()
            .setup_taskrun_flag()
            .setup_submit_all()
            .setup_cqsize(sizes.completion_entries)
            .build(sizes.submission_entries)?;
        // Blocking on purpose: glommio's read of it must wait, not fail with
        // EAGAIN.
        let raw = unsafe { libc::eventfd(0, libc::EFD_CLOEXEC) };
        if raw < 0 {
            return Err(io::Error::last_os_error());
        }
        let eventfd = unsafe { OwnedFd::from_raw_fd(raw) };
        ring.submitter().register_eventfd(eventfd.as_raw_fd())?;
        let buffers = BufferRing::new(&ring, sizes.buffers, sizes.buffer_size)?;
        let mut ring = Ring {
            ring,
            eventfd,
            eventfd_enabled: true,
            buffers,
        };
        ring.set_eventfd_enabled(false);
        Ok(ring)
    }

    /// The eventfd the kernel signals when work arrives while it is enabled.
    pub fn eventfd(&self) -> RawFd {
        self.eventfd.as_raw_fd()
    }

    /// Queues a submission, entering the kernel first if the queue is full.
    pub fn push(&mut self, entry: squeue::Entry) -> io::Result<()> {
        loop {
            // Safety: every entry we build points at memory that outlives the
            // operation (connection buffers are kept until its completion).
            if unsafe { self.ring.submission().push(&entry) }.is_ok() {
                return Ok(());
            }
            self.enter()?;
        }
    }

    /// Whether a call to [`Ring::enter`] has anything to do: submissions
    /// queued, or completions the kernel is holding for us.
    pub fn needs_enter(&mut self) -> bool {
        let sq = self.ring.submission();
        !sq.is_empty() || sq.taskrun() || sq.cq_overflow()
    }

    /// Submits what is queued and collects completions the kernel holds
    /// (deferred task work runs only on an enter with GETEVENTS).
    pub fn enter(&mut self) -> io::Result<()> {
        let to_submit = self.ring.submission().len() as u32;
        let submitter = self.ring.submitter();
        loop {
            // Safety: no extended argument is passed.
            let result = unsafe {
                submitter.enter::<libc::sigset_t>(
                    to_submit,
                    0,
                    io_uring::EnterFlags::GETEVENTS.bits(),
                    None,
                )
            };
            match result {
                Ok(_) => return Ok(()),
                Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
                // The completion queue is full: the caller drains it first.
                Err(err) if err.raw_os_error() == Some(libc::EBUSY) => return Ok(()),
                Err(err) => return Err(err),
            }
        }
    }

    /// Submissions queued for the next enter.
    pub fn queued(&mut self) -> usize {
        self.ring.submission().len()
    }

    /// Like [`Ring::enter`], then waits until `min_complete` completions are
    /// ready or `timeout` has passed.
    pub fn enter_waiting(
        &mut self,
        min_complete: usize,
        timeout: std::time::Duration,
    ) -> io::Result<()> {
        let ts = types::Timespec::from(timeout);
        let args = types::SubmitArgs::new().timespec(&ts);
        match self.ring.submitter().submit_with_args(min_complete, &args) {
            Ok(_) => Ok(()),
            Err(err)
                if matches!(
                    err.raw_os_error(),
                    Some(libc::ETIME) | Some(libc::EINTR) | Some(libc::EBUSY)
                ) =>
            {
                Ok(())
            }
            Err(err) => Err(err),
        }
    }

    /// Takes the next completion, if any.
    pub fn next_completion(&mut self) -> Option<cqueue::Entry> {
        self.ring.completion().next()
    }

    /// Whether completions are waiting in the queue.
    pub fn has_completions(&mut self) -> bool {
        !self.ring.completion().is_empty()
    }

    /// Turns the eventfd notifications on (before sleeping) or off (while
    /// busy).
    pub fn set_eventfd_enabled(&mut self, enabled: bool) {
        if self.eventfd_enabled != enabled {
            let completion = self.ring.completion();
            if enabled {
                completion.enable_eventfd();
            } else {
                completion.disable_eventfd();
            }
            self.eventfd_enabled = enabled;
        }
    }

    /// The provided buffers.
    pub fn buffers(&mut self) -> &mut BufferRing {
        &mut self.buffers
    }

    /// The bytes of provided buffer `id` that a receive filled.
    pub fn buffer(&self, id: u16, len: usize) -> &[u8] {
        self.buffers.get(id, len)
    }
}

/// A ring of equally sized buffers the kernel picks from for multishot
/// receives. Buffers go back to the kernel in batches: [`BufferRing::recycle`]
/// queues one, [`BufferRing::publish`] makes all queued ones visible at once.
pub struct BufferRing {
    /// The ring of `io_uring_buf` entries shared with the kernel (page
    /// aligned, as the kernel requires).
    entries: *mut types::BufRingEntry,
    /// The buffers themselves, one allocation.
    memory: Box<[u8]>,
    count: u16,
    size: u32,
    /// Our copy of the ring tail; published with [`BufferRing::publish`].
    tail: u16,
    unpublished: u16,
}

impl BufferRing {
    fn new(ring: &IoUring, count: u16, size: u32) -> io::Result<BufferRing> {
        if !count.is_power_of_two() || count > 32768 {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "the provided-buffer count must be a power of two ≤ 32768",
            ));
        }
        let entries_layout = std::alloc::Layout::from_size_align(
            usize::from(count) * std::mem::size_of::<types::BufRingEntry>(),
            4096,
        )
        .map_err(|err| io::Error::new(io::ErrorKind::InvalidInput, err))?;
        // Safety: the layout has a non-zero size.
        let entries =
            unsafe { std::alloc::alloc_zeroed(entries_layout) } as *mut types::BufRingEntry;
        if entries.is_null() {
            return Err(io::Error::from(io::ErrorKind::OutOfMemory));
        }
        let mut buffers = BufferRing {
            entries,
            memory: vec![0u8; usize::from(count) * size as usize].into_boxed_slice(),
            count,
            size,
            tail: 0,
            unpublished: 0,
        };
        // Safety: the entries are never freed (see Drop).
        unsafe {
            ring.submitter().register_buf_ring_with_flags(
                entries as u64,
                count,
                BUFFER_GROUP,
                0,
            )?;
        }
        for id in 0..count {
            buffers.recycle(id);
        }
        buffers.publish();
        Ok(buffers)
    }

    fn get(&self, id: u16, len: usize) -> &[u8] {
        let start = usize::from(id) * self.size as usize;
        &self.memory[start..start + len.min(self.size as usize)]
    }

    /// Queues buffer `id` to go back to the kernel.
    pub fn recycle(&mut self, id: u16) {
        let mask = self.count - 1;
        let slot = usize::from(self.tail.wrapping_add(self.unpublished) & mask);
        let addr = self.memory.as_ptr() as u64 + u64::from(id) * u64::from(self.size);
        // Safety: `slot` < count, inside the entries allocation; the kernel
        // does not read entries past the published tail.
        unsafe {
            let entry = &mut *self.entries.add(slot);
            entry.set_addr(addr);
            entry.set_len(self.size);
            entry.set_bid(id);
        }
        self.unpublished += 1;
    }

    /// Makes every recycled buffer available to the kernel.
    pub fn publish(&mut self) {
        if self.unpublished == 0 {
            return;
        }
        self.tail = self.tail.wrapping_add(self.unpublished);
        self.unpublished = 0;
        // Safety: the tail field lives in the first entry of the ring; the
        // kernel reads it with acquire semantics.
        unsafe {
            let tail =
                types::BufRingEntry::tail(self.entries) as *const std::sync::atomic::AtomicU16;
            (*tail).store(self.tail, std::sync::atomic::Ordering::Release);
        }
    }
}

impl Drop for BufferRing {
    fn drop(&mut self) {
        // Leaked on purpose: the kernel tears a ring down asynchronously and
        // may still own buffers after the ring's fd is closed. Shards live as
        // long as the process, so this happens once, at exit.
        std::mem::forget(std::mem::take(&mut self.memory));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip() {
        let token = Token {
            kind: OpKind::Send,
            index: 123_456,
            generation: 0x00ab_cdef,
        };
        assert_eq!(Token::unpack(token.pack()), Some(token));
        assert_eq!(Token::unpack(0), None);
        assert!(token.is_generation(0x01ab_cdef));
    }
}
