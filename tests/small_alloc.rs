//! The wasm build's allocator (src/small_alloc.rs), used directly: blocks
//! keep what is written to them through reuse, growth and shrinking.

use std::alloc::{GlobalAlloc, Layout};

use walkeros_destination_hubspot::small_alloc::SmallAlloc;
use wasm_bindgen_test::wasm_bindgen_test;

fn fill(block: *mut u8, size: usize, seed: u8) {
    for i in 0..size {
        unsafe { *block.add(i) = seed.wrapping_add(i as u8) };
    }
}

fn holds(block: *const u8, size: usize, seed: u8) -> bool {
    (0..size).all(|i| unsafe { *block.add(i) } == seed.wrapping_add(i as u8))
}

#[wasm_bindgen_test]
fn blocks_of_every_size_keep_their_contents_while_others_come_and_go() {
    let alloc = SmallAlloc::new();
    let mut live: Vec<(*mut u8, Layout, u8)> = Vec::new();
    // Sizes across every class and past them, several alignments; every
    // third block freed as we go, so freed blocks are handed out again.
    for round in 0..3000usize {
        let size = 1 + (round * 37) % 700;
        let align = [1, 2, 4, 8, 16, 32][round % 6];
        let layout = Layout::from_size_align(size, align).unwrap();
        let block = unsafe { alloc.alloc(layout) };
        assert!(!block.is_null());
        assert_eq!(block as usize % align, 0, "aligned to {align}");
        fill(block, size, round as u8);
        live.push((block, layout, round as u8));
        if round % 3 == 2 {
            let (block, layout, seed) = live.remove(round % live.len());
            assert!(holds(block, layout.size(), seed));
            unsafe { alloc.dealloc(block, layout) };
        }
    }
    for (block, layout, seed) in live {
        assert!(
            holds(block, layout.size(), seed),
            "a live block was overwritten"
        );
        unsafe { alloc.dealloc(block, layout) };
    }
}

#[wasm_bindgen_test]
fn a_block_grows_and_shrinks_across_classes_keeping_its_start() {
    let alloc = SmallAlloc::new();
    let mut layout = Layout::from_size_align(3, 1).unwrap();
    let mut block = unsafe { alloc.alloc(layout) };
    fill(block, 3, 7);
    for new_size in [10, 16, 17, 100, 128, 129, 512, 513, 5000, 200, 64, 2] {
        block = unsafe { alloc.realloc(block, layout, new_size) };
        let kept = layout.size().min(new_size).min(3);
        assert!(holds(block, kept, 7), "{} → {new_size}", layout.size());
        layout = Layout::from_size_align(new_size, 1).unwrap();
    }
    unsafe { alloc.dealloc(block, layout) };
}
