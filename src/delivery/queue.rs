//! The event queue: event inputs waiting to be sent.

use std::collections::VecDeque;

use crate::hubspot::plan::EventInput;

#[derive(Debug, Default)]
pub struct Queue {
    items: VecDeque<EventInput>,
}

impl Queue {
    pub fn push(&mut self, input: EventInput) {
        self.items.push_back(input);
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// The `n` oldest inputs, left in place.
    pub fn front(&self, n: usize) -> impl Iterator<Item = &EventInput> {
        self.items.iter().take(n)
    }

    /// Takes up to `n` of the oldest inputs.
    pub fn take(&mut self, n: usize) -> Vec<EventInput> {
        let n = n.min(self.items.len());
        self.items.drain(..n).collect()
    }

    /// Puts inputs whose send failed back at the front, in their order, so
    /// they go out first next time.
    pub fn restore(&mut self, inputs: Vec<EventInput>) {
        for input in inputs.into_iter().rev() {
            self.items.push_front(input);
        }
    }
}
