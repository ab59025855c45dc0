//! A windowed keyset pager: the rows of a server list fetched page by page (by cursor) as the
//! selection moves, holding at most a few pages. Pages behind the window are dropped and
//! fetched again by their own cursor when the admin scrolls back, so memory does not grow
//! with how far the admin scrolled. The consumer table and the transaction log use it.
//!
//! A pager may pin rows ahead of its first page (the consumer table's clients waiting for
//! approval): every first page, fetched first or again, starts with them, and their copies
//! in the pages are left out, so each row shows once.

use super::api::RequestId;
use crate::domain::Page;
use std::collections::VecDeque;

/// Where a fetched page goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Place {
    /// The first page: it replaces every row.
    First,
    /// After the window (scrolling down).
    After,
    /// Before the window (scrolling back up to a dropped page).
    Before,
}

/// A page the pager wants: the screen builds the request with this cursor and reports its
/// id with `started`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fetch {
    pub cursor: Option<String>,
    pub place: Place,
}

pub struct Pager<T> {
    pub rows: Vec<T>,
    pub next_cursor: Option<String>,
    /// How many rows the server has (for the "shown/total" title).
    pub total: u64,
    /// Index into `rows`.
    pub selected: usize,
    /// The first row in view, index into `rows`.
    pub offset: usize,
    pub loading: Option<RequestId>,
    loading_fetch: Option<Fetch>,
    /// A page arrived at least once.
    pub loaded: bool,
    /// The pages held in `rows`, in order: the cursor that fetched each and its length.
    pages: VecDeque<(Option<String>, usize)>,
    /// The pages dropped before the window, the nearest last: their cursors and lengths.
    before: Vec<(Option<String>, usize)>,
    /// Rows dropped before the window.
    pub skipped: usize,
    window_pages: usize,
    prefetch: usize,
    /// Rows shown ahead of the first page (see `pin`).
    pinned: Vec<T>,
    /// Whether two rows are the same one (by id); nothing is the same until `keyed` says.
    same: fn(&T, &T) -> bool,
}

impl<T: Clone> Pager<T> {
    /// Holds `window_pages` pages; asks for the next page when the selection is `prefetch`
    /// rows from either end of what is held.
    pub fn new(window_pages: usize, prefetch: usize) -> Pager<T> {
        Pager {
            rows: Vec::new(),
            next_cursor: None,
            total: 0,
            selected: 0,
            offset: 0,
            loading: None,
            loading_fetch: None,
            loaded: false,
            pages: VecDeque::new(),
            before: Vec::new(),
            skipped: 0,
            window_pages: window_pages.max(2),
            prefetch,
            pinned: Vec::new(),
            same: |_, _| false,
        }
    }

    /// Tells rows apart with `same` (by id), so pinned rows can be found in the pages.
    pub fn keyed(mut self, same: fn(&T, &T) -> bool) -> Pager<T> {
        self.same = same;
        self
    }

    /// The rows shown ahead of the first page.
    pub fn pinned(&self) -> &[T] {
        &self.pinned
    }

    /// Whether `row` is one of the pinned rows.
    pub fn is_pinned(&self, row: &T) -> bool {
        self.pinned.iter().any(|p| (self.same)(p, row))
    }

    /// From now on `rows` go ahead of the first page: the rows pinned before and any copy of
    /// the new ones leave the window, and the new ones go first when the first page is in it.
    /// The selection stays on its row. True when a row pinned before is no longer pinned
    /// while the first page is held: its place among the pages is unknown until the first
    /// page is fetched again.
    pub fn pin(&mut self, rows: Vec<T>) -> bool {
        let selected = self.selected().cloned();
        let old = std::mem::replace(&mut self.pinned, rows);
        let same = self.same;
        let mut i = 0;
        while i < self.rows.len() {
            let row = &self.rows[i];
            if old.iter().chain(&self.pinned).any(|p| same(p, row)) {
                self.take(i);
            } else {
                i += 1;
            }
        }
        let first_held = self.loaded && self.skipped == 0;
        if first_held {
            let n = self.pinned.len();
            self.rows.splice(0..0, self.pinned.iter().cloned());
            match self.pages.front_mut() {
                Some(page) => page.1 += n,
                None => self.pages.push_back((None, n)),
            }
        }
        // A selection at the top stays there (on the pinned rows); elsewhere it follows its row.
        if self.selected > 0
            && let Some(selected) = selected
            && let Some(i) = self.rows.iter().position(|r| same(r, &selected))
        {
            self.selected = i;
        }
        self.selected = self.selected.min(self.rows.len().saturating_sub(1));
        self.offset = self.offset.min(self.selected);
        first_held && old.iter().any(|o| !self.pinned.iter().any(|p| same(p, o)))
    }

    /// Takes row `i` out of the window (not out of the total: it is shown elsewhere).
    fn take(&mut self, i: usize) {
        self.rows.remove(i);
        let mut start = 0;
        for page in &mut self.pages {
            if i < start + page.1 {
                page.1 -= 1;
                break;
            }
            start += page.1;
        }
    }

    pub fn selected(&self) -> Option<&T> {
        self.rows.get(self.selected)
    }

    /// Rows up to the end of the window (dropped ones included), for "shown/total"; never
    /// more than the total (pinned rows may also stand on pages not fetched yet).
    pub fn seen(&self) -> usize {
        let seen = self.skipped + self.rows.len();
        seen.min(
            usize::try_from(self.total)
                .unwrap_or(usize::MAX)
                .max(self.rows.len()),
        )
    }

    /// The first page again (a new filter, a refresh).
    pub fn first() -> Fetch {
        Fetch {
            cursor: None,
            place: Place::First,
        }
    }

    /// The request with this id fetches `fetch`.
    pub fn started(&mut self, id: RequestId, fetch: Fetch) {
        self.loading = Some(id);
        self.loading_fetch = Some(fetch);
    }

    /// The request with this id failed: the pager no longer waits for it.
    pub fn failed(&mut self, id: RequestId) {
        if self.loading == Some(id) {
            self.loading = None;
            self.loading_fetch = None;
        }
    }

    /// A page came back. False when it was not the one awaited (stale).
    pub fn answer(&mut self, id: RequestId, page: Page<T>) -> bool {
        if self.loading != Some(id) {
            return false;
        }
        self.loading = None;
        self.loaded = true;
        self.total = page.total;
        let Some(fetch) = self.loading_fetch.take() else {
            return true;
        };
        // Pinned rows go ahead of the first page, and nowhere else.
        let same = self.same;
        let mut items: Vec<T> = page
            .items
            .into_iter()
            .filter(|r| !self.pinned.iter().any(|p| same(p, r)))
            .collect();
        if fetch.cursor.is_none() {
            items.splice(0..0, self.pinned.iter().cloned());
        }
        let page = Page { items, ..page };
        match fetch.place {
            Place::First => {
                self.pages = VecDeque::from([(None, page.items.len())]);
                self.before.clear();
                self.skipped = 0;
                self.rows = page.items;
                self.selected = 0;
                self.offset = 0;
                self.next_cursor = page.next_cursor;
            }
            Place::Before => self.prepend(fetch.cursor, page.items),
            Place::After => {
                self.append(fetch.cursor, page.items);
                self.next_cursor = page.next_cursor;
            }
        }
        true
    }

    /// Moves the selection by `delta` rows in a view `height` rows tall; the page to fetch
    /// when the selection came near an end of the window.
    pub fn move_by(&mut self, delta: isize, height: usize) -> Option<Fetch> {
        if !self.rows.is_empty() {
            let last = self.rows.len() - 1;
            self.selected = self.selected.saturating_add_signed(delta).min(last);
            if self.selected < self.offset {
                self.offset = self.selected;
            } else if self.selected >= self.offset + height {
                self.offset = self.selected + 1 - height;
            }
        }
        if self.loading.is_some() {
            return None;
        }
        if delta > 0 {
            if self.selected + self.prefetch >= self.rows.len() {
                return self.next_cursor.clone().map(|cursor| Fetch {
                    cursor: Some(cursor),
                    place: Place::After,
                });
            }
        } else if delta < 0
            && self.selected < self.prefetch
            && let Some((cursor, _)) = self.before.last()
        {
            // Even the first page, fetched again, goes before the window.
            return Some(Fetch {
                cursor: cursor.clone(),
                place: Place::Before,
            });
        }
        None
    }

    /// The rows in view for a table `height` rows tall: `(offset, end, selected in view)`.
    pub fn view(&self, height: usize) -> (usize, usize, Option<usize>) {
        let height = height.max(1);
        let selected = self.selected.min(self.rows.len().saturating_sub(1));
        let mut offset = self.offset.min(selected);
        if selected >= offset + height {
            offset = selected + 1 - height;
        }
        let end = (offset + height).min(self.rows.len());
        let shown = (!self.rows.is_empty()).then_some(selected - offset.min(selected));
        (offset.min(end), end, shown)
    }

    /// Drops the first row that `is` picks (deleted on the server), pinned or not.
    pub fn remove(&mut self, is: impl Fn(&T) -> bool) {
        self.pinned.retain(|p| !is(p));
        if let Some(i) = self.rows.iter().position(is) {
            self.take(i);
            self.total = self.total.saturating_sub(1);
            self.selected = self.selected.min(self.rows.len().saturating_sub(1));
        }
    }

    /// Replaces the row `same` picks (its pinned copy too), or puts a new one first and
    /// selects it.
    pub fn upsert(&mut self, row: T, same: impl Fn(&T, &T) -> bool) {
        if let Some(pinned) = self.pinned.iter_mut().find(|p| same(p, &row)) {
            *pinned = row.clone();
        }
        match self.rows.iter_mut().find(|r| same(r, &row)) {
            Some(old) => *old = row,
            None => {
                self.rows.insert(0, row);
                match self.pages.front_mut() {
                    Some(page) => page.1 += 1,
                    None => self.pages.push_back((None, 1)),
                }
                self.total += 1;
                self.selected = 0;
                self.offset = 0;
            }
        }
    }

    /// Adds a fetched page at the end of the window, dropping pages from its start that are
    /// out of sight.
    fn append(&mut self, cursor: Option<String>, items: Vec<T>) {
        self.pages.push_back((cursor, items.len()));
        self.rows.extend(items);
        while self.pages.len() > self.window_pages {
            let Some(&(_, len)) = self.pages.front() else {
                break;
            };
            if self.offset < len || self.selected < len {
                break;
            }
            if let Some(page) = self.pages.pop_front() {
                self.rows.drain(..len);
                self.before.push(page);
                self.skipped += len;
                self.selected -= len;
                self.offset -= len;
            }
        }
    }

    /// Adds a page fetched again before the window, dropping pages from its end.
    fn prepend(&mut self, cursor: Option<String>, items: Vec<T>) {
        let len = items.len();
        if let Some((_, dropped)) = self.before.pop() {
            self.skipped = self.skipped.saturating_sub(dropped);
        }
        self.pages.push_front((cursor, len));
        self.rows.splice(0..0, items);
        self.selected += len;
        self.offset += len;
        while self.pages.len() > self.window_pages {
            let Some((cursor, len)) = self.pages.pop_back() else {
                break;
            };
            self.rows.truncate(self.rows.len().saturating_sub(len));
            self.next_cursor = cursor;
        }
        self.selected = self.selected.min(self.rows.len().saturating_sub(1));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Page `k` holds rows `10k .. 10k+10`, behind cursor `k`.
    fn page(k: usize) -> Page<usize> {
        Page {
            items: (k * 10..k * 10 + 10).collect(),
            next_cursor: Some(format!("{}", k + 1)),
            total: 1_000,
        }
    }

    fn serve(pager: &mut Pager<usize>, fetch: Option<Fetch>, id: &mut u64) {
        if let Some(fetch) = fetch {
            let k = fetch
                .cursor
                .as_deref()
                .map_or(0, |c| c.parse().unwrap_or(0));
            *id += 1;
            pager.started(*id, fetch);
            assert!(pager.answer(*id, page(k)));
        }
    }

    #[test]
    fn the_window_stays_bounded_both_ways_and_stale_pages_are_ignored() {
        let mut pager = Pager::new(3, 4);
        let mut id = 0;
        serve(&mut pager, Some(Pager::<usize>::first()), &mut id);
        for _ in 0..95 {
            let fetch = pager.move_by(1, 5);
            serve(&mut pager, fetch, &mut id);
            assert!(pager.rows.len() <= 30, "held {}", pager.rows.len());
        }
        assert_eq!(pager.selected(), Some(&95));
        assert_eq!(pager.skipped + pager.selected, 95);
        for _ in 0..95 {
            let fetch = pager.move_by(-1, 5);
            serve(&mut pager, fetch, &mut id);
            assert!(pager.rows.len() <= 30, "held {}", pager.rows.len());
        }
        assert_eq!(pager.selected(), Some(&0));
        assert_eq!(pager.skipped, 0);
        // An answer nobody waits for changes nothing.
        assert!(!pager.answer(id + 7, page(50)));
        assert_eq!(pager.selected(), Some(&0));
        // A failed fetch no longer blocks the next one.
        pager.started(id + 1, Pager::<usize>::first());
        pager.failed(id + 1);
        assert!(pager.loading.is_none());
    }

    /// Rows 1000+ are pinned ones; rows with the same value are the same row.
    fn pinned_pager() -> Pager<usize> {
        Pager::new(3, 4).keyed(|a, b| a == b)
    }

    #[test]
    fn pinned_rows_lead_the_first_page_fetched_again_and_show_once() {
        let mut pager = pinned_pager();
        let mut id = 0;
        // Row 15 (on page 1) waits: it goes first, and page 1 leaves its copy out.
        pager.pin(vec![15]);
        serve(&mut pager, Some(Pager::<usize>::first()), &mut id);
        assert_eq!(pager.rows[..3], [15, 0, 1]);
        assert_eq!(pager.selected(), Some(&15), "the top is selected");
        for _ in 0..60 {
            let fetch = pager.move_by(1, 5);
            serve(&mut pager, fetch, &mut id);
        }
        assert!(pager.rows.iter().filter(|r| **r == 15).count() <= 1);
        assert!(pager.skipped > 0, "page 0 and the pinned row were dropped");
        // Back up: page 0, fetched again, starts with the pinned row again.
        for _ in 0..60 {
            let fetch = pager.move_by(-1, 5);
            serve(&mut pager, fetch, &mut id);
        }
        assert_eq!(pager.skipped, 0);
        assert_eq!(pager.rows[..3], [15, 0, 1]);
        assert_eq!(pager.rows.iter().filter(|r| **r == 15).count(), 1);
        assert!(pager.seen() <= pager.total as usize);
    }

    #[test]
    fn pinning_after_the_page_moves_the_rows_up_and_keeps_the_selection() {
        let mut pager = pinned_pager();
        let mut id = 0;
        serve(&mut pager, Some(Pager::<usize>::first()), &mut id);
        pager.move_by(3, 5);
        assert_eq!(pager.selected(), Some(&3));
        assert!(!pager.pin(vec![7, 1000]), "nothing unpinned");
        assert_eq!(pager.rows[..4], [7, 1000, 0, 1]);
        assert_eq!(pager.rows.len(), 11, "7 moved, 1000 added");
        assert_eq!(pager.selected(), Some(&3), "still on its row");
        // 7 no longer waits: its place among the pages is unknown until page 0 comes again.
        assert!(pager.pin(vec![1000]));
        assert_eq!(pager.rows[..2], [1000, 0]);
        assert!(!pager.rows.contains(&7));
        // Deleted: gone from the pinned rows too.
        pager.remove(|r| *r == 1000);
        assert!(pager.pinned().is_empty());
        serve(&mut pager, Some(Pager::<usize>::first()), &mut id);
        assert_eq!(pager.rows[0], 0);
    }
}
