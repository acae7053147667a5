//! A map keyed by the peer's packet identifiers with O(1) access in the worst case and
//! memory that follows what is stored, not the 65,535 identifiers a peer may choose from.

use alloc::vec;
use alloc::vec::Vec;

/// Identifiers per page: 256 pages of 256 cover 0 to 65,535.
const PAGE: usize = 256;

/// A value per packet identifier, `T::default()` meaning "none".
///
/// The peer picks the identifiers, so a flat table would cost 65,536 slots per session and
/// a sorted one O(n) per insertion. This one is a two-level table: an index of 256 page
/// numbers (allocated on first use) and pages of 256 values, each allocated when the first
/// identifier in its range is stored. A page left empty goes to a spare list and is reused,
/// so a steady flow of identifiers allocates nothing; pages in use never exceed the
/// number of identifiers stored (nor 256).
#[derive(Debug, Clone)]
pub(crate) struct IdTable<T> {
    /// Page number + 1 for each range of 256 identifiers; 0 when the range has no page.
    index: Vec<u16>,
    pages: Vec<Page<T>>,
    spare: Vec<u16>,
    len: usize,
}

#[derive(Debug, Clone)]
struct Page<T> {
    values: [T; PAGE],
    used: u16,
}

impl<T> Default for IdTable<T> {
    fn default() -> Self {
        Self {
            index: Vec::new(),
            pages: Vec::new(),
            spare: Vec::new(),
            len: 0,
        }
    }
}

impl<T: Copy + Default + PartialEq> IdTable<T> {
    /// How many identifiers hold a value.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The value of `id` (the default when it has none).
    pub(crate) fn get(&self, id: u16) -> T {
        let (page, slot) = split(id);
        match self.index.get(page) {
            Some(&p) if p != 0 => self.pages[usize::from(p - 1)].values[slot],
            _ => T::default(),
        }
    }

    /// Sets the value of `id`; the default removes it.
    pub(crate) fn set(&mut self, id: u16, value: T) {
        let (page, slot) = split(id);
        let absent = T::default();
        let p = match self.index.get(page) {
            Some(&p) if p != 0 => usize::from(p - 1),
            _ if value == absent => return,
            _ => self.add_page(page),
        };
        let entry = &mut self.pages[p];
        let old = core::mem::replace(&mut entry.values[slot], value);
        match (old == absent, value == absent) {
            (true, false) => {
                entry.used += 1;
                self.len += 1;
            }
            (false, true) => {
                entry.used -= 1;
                self.len -= 1;
                if entry.used == 0 {
                    self.index[page] = 0;
                    self.spare.push(p as u16);
                }
            }
            _ => {}
        }
    }

    /// Removes every value, keeping the pages for reuse.
    pub(crate) fn clear(&mut self) {
        for p in &mut self.index {
            if *p != 0 {
                let entry = &mut self.pages[usize::from(*p - 1)];
                entry.values = [T::default(); PAGE];
                entry.used = 0;
                self.spare.push(*p - 1);
                *p = 0;
            }
        }
        self.len = 0;
    }

    /// The identifiers with a value and their values, in increasing order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (u16, T)> + '_ {
        let absent = T::default();
        self.index
            .iter()
            .enumerate()
            .filter(|(_, &p)| p != 0)
            .flat_map(move |(page, &p)| {
                let values = &self.pages[usize::from(p - 1)].values;
                values
                    .iter()
                    .enumerate()
                    .filter(move |(_, v)| **v != absent)
                    .map(move |(slot, v)| ((page * PAGE + slot) as u16, *v))
            })
    }

    fn add_page(&mut self, page: usize) -> usize {
        if self.index.is_empty() {
            self.index = vec![0; PAGE];
        }
        let p = match self.spare.pop() {
            Some(p) => usize::from(p),
            None => {
                self.pages.push(Page {
                    values: [T::default(); PAGE],
                    used: 0,
                });
                self.pages.len() - 1
            }
        };
        // At most 256 pages exist, so the number fits.
        self.index[page] = p as u16 + 1;
        p
    }
}

fn split(id: u16) -> (usize, usize) {
    (usize::from(id) / PAGE, usize::from(id) % PAGE)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stores_reads_and_removes_values_by_identifier() {
        let mut table = IdTable::<u8>::default();
        assert_eq!(table.get(7), 0);
        table.set(7, 3);
        table.set(65_535, 1);
        table.set(300, 2);
        assert_eq!((table.get(7), table.get(65_535), table.get(300)), (3, 1, 2));
        assert_eq!(table.len(), 3);
        assert_eq!(
            table.iter().collect::<Vec<_>>(),
            [(7, 3), (300, 2), (65_535, 1)]
        );
        table.set(7, 0);
        assert_eq!(table.get(7), 0);
        assert_eq!(table.len(), 2);
    }

    #[test]
    fn an_emptied_page_is_reused_not_reallocated() {
        let mut table = IdTable::<u32>::default();
        for id in 1..=u16::MAX {
            table.set(id, 1);
            if id > 1 {
                table.set(id - 1, 0);
            }
        }
        // One identifier at a time: never more than two pages.
        assert!(table.pages.len() <= 2, "{} pages", table.pages.len());
        assert_eq!(table.len(), 1);
    }

    #[test]
    fn clear_empties_the_table_and_keeps_its_pages() {
        let mut table = IdTable::<u8>::default();
        for id in [1, 500, 9_000] {
            table.set(id, 1);
        }
        table.clear();
        assert!(table.is_empty());
        assert_eq!(table.iter().count(), 0);
        assert_eq!(table.get(500), 0);
        table.set(9_000, 2);
        assert_eq!(table.pages.len(), 3);
        assert_eq!(table.get(9_000), 2);
    }

    #[test]
    fn removing_an_absent_identifier_allocates_no_page() {
        let mut table = IdTable::<u8>::default();
        table.set(42, 0);
        assert!(table.index.is_empty());
        assert!(table.is_empty());
    }
}
