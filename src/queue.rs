//! The batch-mode event queue: serialized event inputs waiting for a flush.

use std::collections::VecDeque;

#[derive(Debug, Default)]
pub struct Queue {
    items: VecDeque<String>,
}

impl Queue {
    pub fn push(&mut self, input: String) {
        self.items.push_back(input);
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Takes up to `n` of the oldest inputs.
    pub fn take(&mut self, n: usize) -> Vec<String> {
        let n = n.min(self.items.len());
        self.items.drain(..n).collect()
    }

    /// Puts inputs whose send failed back at the front, in their order, so
    /// they go out first next time.
    pub fn restore(&mut self, inputs: Vec<String>) {
        for input in inputs.into_iter().rev() {
            self.items.push_front(input);
        }
    }
}

/// The body of `POST /events/v3/send/batch` for serialized inputs.
pub fn batch_body(inputs: &[String]) -> String {
    let mut body = String::with_capacity(12 + inputs.iter().map(|s| s.len() + 1).sum::<usize>());
    body.push_str("{\"inputs\":[");
    for (i, input) in inputs.iter().enumerate() {
        if i > 0 {
            body.push(',');
        }
        body.push_str(input);
    }
    body.push_str("]}");
    body
}
