//! A list: byte strings in order, pushed and popped at both ends in O(1)
//! and indexed in O(1) (a ring buffer). Redis 7.0 reports every list as a
//! `quicklist`, whatever its size, and so does corecache.

use std::collections::VecDeque;

use super::ELEMENT_OVERHEAD;

/// Byte strings in order.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct List {
    elements: VecDeque<Box<[u8]>>,
    /// Heap bytes accounted, kept current by every change.
    bytes: u64,
}

fn element_bytes(element: &[u8]) -> u64 {
    ELEMENT_OVERHEAD + element.len() as u64
}

impl List {
    /// A list with no element (a `const` for statics).
    pub const EMPTY: List = List {
        elements: VecDeque::new(),
        bytes: 0,
    };

    /// Number of elements.
    pub fn len(&self) -> usize {
        self.elements.len()
    }

    /// Whether it has no element.
    pub fn is_empty(&self) -> bool {
        self.elements.is_empty()
    }

    /// Heap bytes of the elements.
    pub fn heap_bytes(&self) -> u64 {
        self.bytes
    }

    /// Adds `element` at the head.
    pub fn push_front(&mut self, element: &[u8]) {
        self.bytes += element_bytes(element);
        self.elements.push_front(element.into());
    }

    /// Adds `element` at the tail.
    pub fn push_back(&mut self, element: &[u8]) {
        self.bytes += element_bytes(element);
        self.elements.push_back(element.into());
    }

    /// Takes the head.
    pub fn pop_front(&mut self) -> Option<Box<[u8]>> {
        let element = self.elements.pop_front()?;
        self.bytes -= element_bytes(&element);
        Some(element)
    }

    /// Takes the tail.
    pub fn pop_back(&mut self) -> Option<Box<[u8]>> {
        let element = self.elements.pop_back()?;
        self.bytes -= element_bytes(&element);
        Some(element)
    }

    /// The element at `index` from the head.
    pub fn get(&self, index: usize) -> Option<&[u8]> {
        self.elements.get(index).map(|e| &**e)
    }

    /// Every element, head first.
    pub fn iter(&self) -> impl Iterator<Item = &[u8]> {
        self.elements.iter().map(|e| &**e)
    }

    /// Replaces the element at `index`; false if there is none.
    pub fn set(&mut self, index: usize, element: &[u8]) -> bool {
        let Some(slot) = self.elements.get_mut(index) else {
            return false;
        };
        self.bytes = self.bytes - element_bytes(slot) + element_bytes(element);
        *slot = element.into();
        true
    }

    /// Inserts `element` before position `index` (`len`: at the tail).
    pub fn insert(&mut self, index: usize, element: &[u8]) {
        self.bytes += element_bytes(element);
        self.elements
            .insert(index.min(self.elements.len()), element.into());
    }

    /// Removes the element at `index`.
    pub fn remove(&mut self, index: usize) -> Option<Box<[u8]>> {
        let element = self.elements.remove(index)?;
        self.bytes -= element_bytes(&element);
        Some(element)
    }

    /// Keeps only the elements at positions `start..end` (clamped).
    pub fn keep(&mut self, start: usize, end: usize) {
        let end = end.min(self.elements.len());
        let start = start.min(end);
        let mut dropped: u64 = self.elements.drain(end..).map(|e| element_bytes(&e)).sum();
        dropped += self
            .elements
            .drain(..start)
            .map(|e| element_bytes(&e))
            .sum::<u64>();
        self.bytes -= dropped;
    }
}
