//! The guest's global allocator: a bump allocator, because an instance lives for one call.
//!
//! The host instantiates the plugin afresh for every call and throws the instance away
//! after it, so nothing allocated needs to be reused: an allocation is a pointer bump and
//! a free is nothing (except the newest block, which is given back, and which a growing
//! `Vec` or `String` extends in place). The default allocator (dlmalloc) spent most of a
//! call's fuel keeping free lists that were never used again.
//!
//! The cost is memory: a call uses the sum of what it allocates, not its peak. Measured on
//! the 93-product scenario that is under 2 MiB; the host's largest request (5,000 items)
//! stays inside the default 64 MiB sandbox (tests/tests/runtime/golden.rs checks it), and a
//! request that does not fit fails as `memory_limit`, like any plugin over its memory.
//!
//! Only for wasm32 (the native tests keep the system allocator). wasm32-wasip2 components
//! have one thread, so the cells need no lock. It takes its memory with `memory.grow`
//! and never below, so it cannot overlap what wasi-libc's own allocator hands out.

use core::alloc::{GlobalAlloc, Layout};
use core::arch::wasm32;
use core::cell::Cell;

const PAGE_BYTES: usize = 65_536;
/// Pages memory grows by at least, so small allocations do not each cost a `memory.grow`.
const MIN_GROW_PAGES: usize = 4;

/// `[next, end)` is the free part of the region the allocator grew last; both 0 before
/// the first allocation. Memory below the first region (the C library's own heap, from
/// `__heap_base`) is never touched: wasi-libc still allocates there for itself.
pub struct Bump {
    next: Cell<usize>,
    end: Cell<usize>,
}

// SAFETY: wasm32-wasip2 components run one thread; nothing shares the allocator.
unsafe impl Sync for Bump {}

impl Bump {
    pub const fn new() -> Self {
        Self {
            next: Cell::new(0),
            end: Cell::new(0),
        }
    }

    /// A block from the current region, if it has room.
    fn bump(&self, layout: Layout) -> Option<*mut u8> {
        if self.end.get() == 0 {
            return None;
        }
        let start = self.next.get().checked_add(layout.align() - 1)? & !(layout.align() - 1);
        let new_next = start.checked_add(layout.size())?;
        if new_next > self.end.get() {
            return None;
        }
        self.next.set(new_next);
        Some(start as *mut u8)
    }

    /// Grows memory by at least `bytes`. New pages that do not follow the current region
    /// (the C library grew memory in between) start a new region; the rest of the old
    /// one is left unused. False when memory cannot grow (the sandbox's limit).
    fn grow(&self, bytes: usize) -> bool {
        let pages = bytes.div_ceil(PAGE_BYTES).max(MIN_GROW_PAGES);
        let old_pages = wasm32::memory_grow(0, pages);
        if old_pages == usize::MAX {
            return false;
        }
        let base = old_pages * PAGE_BYTES;
        if base != self.end.get() {
            self.next.set(base);
        }
        self.end.set(base + pages * PAGE_BYTES);
        true
    }

    /// Whether the block ending at `end_of_block` is the newest one.
    fn is_newest(&self, end_of_block: usize) -> bool {
        end_of_block == self.next.get()
    }
}

impl Default for Bump {
    fn default() -> Self {
        Self::new()
    }
}

unsafe impl GlobalAlloc for Bump {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if let Some(block) = self.bump(layout) {
            return block;
        }
        let Some(bytes) = layout.size().checked_add(layout.align()) else {
            return core::ptr::null_mut();
        };
        match self.grow(bytes) {
            true => self.bump(layout).unwrap_or(core::ptr::null_mut()),
            false => core::ptr::null_mut(),
        }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // Only the newest block can be given back; the rest goes with the instance.
        if self.is_newest(ptr as usize + layout.size()) {
            self.next.set(ptr as usize);
        }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let start = ptr as usize;
        if self.is_newest(start + layout.size())
            && let Some(new_next) = start.checked_add(new_size)
        {
            // The newest block grows or shrinks in place, when its region has room or
            // memory grows right after it.
            let room = new_next <= self.end.get()
                || (self.grow(new_next - self.end.get()) && self.is_newest(start + layout.size()));
            if room {
                self.next.set(new_next);
                return ptr;
            }
        }
        if new_size <= layout.size() {
            return ptr;
        }
        // SAFETY: the caller guarantees the layout rules; the new block is fresh, so the
        // two do not overlap.
        unsafe {
            let new_layout = Layout::from_size_align_unchecked(new_size, layout.align());
            let new_ptr = self.alloc(new_layout);
            if !new_ptr.is_null() {
                core::ptr::copy_nonoverlapping(ptr, new_ptr, layout.size());
            }
            new_ptr
        }
    }
}
