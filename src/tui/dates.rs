//! Local calendar days as instants. A day the admin picks runs from its local midnight to
//! the next local midnight, half-open, whatever the zone does that day (23- and 25-hour days,
//! a midnight skipped by a DST change).

use chrono::{DateTime, Days, NaiveDate, TimeDelta, TimeZone, Utc};

/// The first instant of `day` in `tz`: its midnight, or the first time that exists when a
/// DST change skips midnight.
pub fn start_of_day<Tz: TimeZone>(tz: &Tz, day: NaiveDate) -> DateTime<Utc> {
    let midnight = day.and_time(chrono::NaiveTime::MIN);
    // A skipped midnight: the day starts when the clocks land (never more than a few hours).
    for minutes in (0..=24 * 60).step_by(15) {
        let local = midnight + TimeDelta::minutes(minutes);
        if let Some(at) = tz.from_local_datetime(&local).earliest() {
            return at.with_timezone(&Utc);
        }
    }
    midnight.and_utc()
}

/// `[start of first, start of the day after last)`.
pub fn days<Tz: TimeZone>(
    tz: &Tz,
    first: NaiveDate,
    last: NaiveDate,
) -> (DateTime<Utc>, DateTime<Utc>) {
    let after = last.checked_add_days(Days::new(1)).unwrap_or(last);
    (start_of_day(tz, first), start_of_day(tz, after))
}

/// The API's `until` includes its own instant, to the millisecond: the last one before
/// `end`, so a half-open range keeps the day's last second and nothing of the next day.
pub fn last_instant_before(end: DateTime<Utc>) -> DateTime<Utc> {
    end - TimeDelta::milliseconds(1)
}

/// `days` in the console's local zone, as the API's inclusive `(since, until)`.
pub fn local_query(first: NaiveDate, last: NaiveDate) -> (DateTime<Utc>, DateTime<Utc>) {
    let (since, end) = days(&chrono::Local, first, last);
    (since, last_instant_before(end))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{FixedOffset, LocalResult, NaiveDateTime, Offset};

    /// A zone whose offset changes once, at `switch` (UTC): enough to model a DST day.
    #[derive(Clone, Copy, Debug)]
    struct Switching {
        before: i32,
        after: i32,
        switch: i64,
    }

    impl Switching {
        fn offset_at_utc(&self, utc: i64) -> FixedOffset {
            let secs = if utc < self.switch {
                self.before
            } else {
                self.after
            };
            FixedOffset::east_opt(secs).unwrap_or(FixedOffset::east_opt(0).expect("zero"))
        }
    }

    impl TimeZone for Switching {
        type Offset = FixedOffset;
        fn from_offset(_: &FixedOffset) -> Self {
            Switching {
                before: 0,
                after: 0,
                switch: 0,
            }
        }
        fn offset_from_local_date(&self, _: &NaiveDate) -> LocalResult<FixedOffset> {
            LocalResult::None
        }
        fn offset_from_local_datetime(&self, local: &NaiveDateTime) -> LocalResult<FixedOffset> {
            let local = local.and_utc().timestamp();
            let fits = |offset: i32| {
                let utc = local - i64::from(offset);
                (self.offset_at_utc(utc).fix().local_minus_utc() == offset)
                    .then(|| FixedOffset::east_opt(offset))
                    .flatten()
            };
            match (fits(self.before), fits(self.after)) {
                (Some(a), Some(b)) if a != b => LocalResult::Ambiguous(a, b),
                (Some(a), _) | (None, Some(a)) => LocalResult::Single(a),
                (None, None) => LocalResult::None,
            }
        }
        fn offset_from_utc_date(&self, _: &NaiveDate) -> FixedOffset {
            self.offset_at_utc(0)
        }
        fn offset_from_utc_datetime(&self, utc: &NaiveDateTime) -> FixedOffset {
            self.offset_at_utc(utc.and_utc().timestamp())
        }
    }

    fn utc(text: &str) -> DateTime<Utc> {
        text.parse().expect("instant")
    }

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).expect("date")
    }

    #[test]
    fn a_spring_forward_day_is_23_hours_and_keeps_its_last_second() {
        // Madrid, 2024-03-31: 02:00 CET becomes 03:00 CEST (01:00 UTC).
        let madrid = Switching {
            before: 3600,
            after: 7200,
            switch: utc("2024-03-31T01:00:00Z").timestamp(),
        };
        let (since, end) = days(&madrid, date(2024, 3, 31), date(2024, 3, 31));
        assert_eq!(
            since,
            utc("2024-03-30T23:00:00Z"),
            "local midnight, not UTC"
        );
        assert_eq!(end, utc("2024-03-31T22:00:00Z"), "the next local midnight");
        assert_eq!(end - since, TimeDelta::hours(23));
        // The day's last millisecond is in the range, the next day's first is not.
        let until = last_instant_before(end);
        let last = utc("2024-03-31T21:59:59.999Z");
        assert!(since <= last && last <= until);
        assert!(utc("2024-03-31T22:00:00Z") > until);
        assert!(utc("2024-03-30T22:59:59.999Z") < since);
    }

    #[test]
    fn a_fall_back_day_is_25_hours_and_a_skipped_midnight_starts_when_clocks_land() {
        // Madrid, 2024-10-27: 03:00 CEST becomes 02:00 CET (01:00 UTC).
        let madrid = Switching {
            before: 7200,
            after: 3600,
            switch: utc("2024-10-27T01:00:00Z").timestamp(),
        };
        let (since, end) = days(&madrid, date(2024, 10, 27), date(2024, 10, 27));
        assert_eq!(end - since, TimeDelta::hours(25));
        // Santiago de Chile, 2024-09-08: midnight (UTC−4) jumps to 01:00 (UTC−3).
        let santiago = Switching {
            before: -4 * 3600,
            after: -3 * 3600,
            switch: utc("2024-09-08T04:00:00Z").timestamp(),
        };
        assert_eq!(
            start_of_day(&santiago, date(2024, 9, 8)),
            utc("2024-09-08T04:00:00Z")
        );
        let (since, end) = days(&santiago, date(2024, 9, 7), date(2024, 9, 7));
        assert_eq!(since, utc("2024-09-07T04:00:00Z"));
        assert_eq!(
            end,
            utc("2024-09-08T04:00:00Z"),
            "the next day starts as clocks land"
        );
    }
}
