//! Service levels with business hours: a calendar (weekly hours, time zone, holidays),
//! per-priority targets, and the three clocks a ticket carries. Pure: every function
//! takes the time it should think is "now".

use jiff::Timestamp;
use jiff::civil::{Date, Time};
use jiff::tz::TimeZone;

use crate::{Millis, Priority, SlaClock, Status, ValidationError};

const MINUTE: i64 = 60_000;
/// How far ahead business time is searched. A calendar with any open hour finds one
/// within a year even with every other day a holiday.
const HORIZON_DAYS: usize = 800;

/// When the desk works, as an admin writes it:
/// `{"time_zone": "Europe/Berlin", "hours": [{"days": ["mon","tue"], "open": "09:00", "close": "17:00"}], "holidays": ["2026-12-25"]}`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CalendarSpec {
    pub time_zone: String,
    pub hours: Vec<OpeningHours>,
    #[serde(default)]
    pub holidays: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OpeningHours {
    /// `mon` … `sun`.
    pub days: Vec<String>,
    /// `HH:MM`, local time.
    pub open: String,
    /// `HH:MM`, local time; `24:00` for midnight at the end of the day.
    pub close: String,
}

impl Default for CalendarSpec {
    fn default() -> Self {
        CalendarSpec {
            time_zone: "UTC".into(),
            hours: vec![OpeningHours {
                days: ["mon", "tue", "wed", "thu", "fri"]
                    .map(String::from)
                    .to_vec(),
                open: "09:00".into(),
                close: "17:00".into(),
            }],
            holidays: vec![],
        }
    }
}

const DAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

/// A checked calendar, ready for arithmetic.
#[derive(Debug, Clone)]
pub struct Calendar {
    tz: TimeZone,
    tz_name: String,
    /// Per weekday (Monday first), open intervals in minutes since local midnight.
    week: [Vec<(u16, u16)>; 7],
    holidays: Vec<Date>,
}

fn calendar_error(code: &'static str, message: String) -> ValidationError {
    ValidationError::new("calendar", code, message)
}

fn parse_clock(s: &str) -> Option<u16> {
    let (h, m) = s.split_once(':')?;
    let (h, m): (u16, u16) = (h.parse().ok()?, m.parse().ok()?);
    (h <= 24 && m < 60 && (h < 24 || m == 0) && h.to_string().len() <= 2).then_some(h * 60 + m)
}

impl Calendar {
    pub fn parse(spec: &CalendarSpec) -> Result<Calendar, ValidationError> {
        let tz = jiff::tz::db().get(&spec.time_zone).map_err(|_| {
            calendar_error(
                "unknown_time_zone",
                format!(
                    "`{}` is not a time zone this desk knows (try e.g. `Europe/Berlin`).",
                    spec.time_zone
                ),
            )
        })?;
        let mut week: [Vec<(u16, u16)>; 7] = Default::default();
        for h in &spec.hours {
            let (Some(open), Some(close)) = (parse_clock(&h.open), parse_clock(&h.close)) else {
                return Err(calendar_error(
                    "invalid_hours",
                    format!(
                        "Opening hours are written HH:MM; got `{}`–`{}`.",
                        h.open, h.close
                    ),
                ));
            };
            if open >= close {
                return Err(calendar_error(
                    "invalid_hours",
                    format!(
                        "Opening hours must close after they open; got `{}`–`{}`.",
                        h.open, h.close
                    ),
                ));
            }
            if h.days.is_empty() {
                return Err(calendar_error(
                    "invalid_hours",
                    "Each opening-hours entry names at least one day.".into(),
                ));
            }
            for d in &h.days {
                let i = DAYS.iter().position(|x| x == d).ok_or_else(|| {
                    calendar_error(
                        "invalid_day",
                        format!("`{d}` is not a day; use mon, tue, wed, thu, fri, sat or sun."),
                    )
                })?;
                week[i].push((open, close));
            }
        }
        for day in week.iter_mut() {
            day.sort_unstable();
            if day.windows(2).any(|w| w[1].0 < w[0].1) {
                return Err(calendar_error(
                    "overlapping_hours",
                    "Opening hours on one day must not overlap.".into(),
                ));
            }
        }
        if week.iter().all(Vec::is_empty) {
            return Err(calendar_error(
                "no_hours",
                "A calendar needs at least one open hour a week.".into(),
            ));
        }
        let holidays = spec
            .holidays
            .iter()
            .map(|d| {
                d.parse::<Date>().map_err(|_| {
                    calendar_error(
                        "invalid_holiday",
                        format!("`{d}` is not a date (YYYY-MM-DD)."),
                    )
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Calendar {
            tz,
            tz_name: spec.time_zone.clone(),
            week,
            holidays,
        })
    }

    pub fn time_zone(&self) -> &str {
        &self.tz_name
    }

    /// The open intervals of one local day, as absolute times.
    fn day_intervals(&self, date: Date) -> Vec<(i64, i64)> {
        if self.holidays.contains(&date) {
            return vec![];
        }
        let wd = date.weekday().to_monday_zero_offset() as usize;
        self.week[wd]
            .iter()
            .filter_map(|&(o, c)| Some((self.local_ms(date, o)?, self.local_ms(date, c)?)))
            .collect()
    }

    /// Minutes since local midnight on `date` as Unix ms; DST gaps resolve forward.
    fn local_ms(&self, date: Date, minutes: u16) -> Option<i64> {
        let (date, minutes) = if minutes == 24 * 60 {
            (date.tomorrow().ok()?, 0)
        } else {
            (date, minutes)
        };
        let t = Time::new((minutes / 60) as i8, (minutes % 60) as i8, 0, 0).ok()?;
        let z = date.to_datetime(t).to_zoned(self.tz.clone()).ok()?;
        Some(z.timestamp().as_millisecond())
    }

    fn local_date(&self, at: Millis) -> Date {
        Timestamp::from_millisecond(at.0)
            .unwrap_or(Timestamp::UNIX_EPOCH)
            .to_zoned(self.tz.clone())
            .date()
    }

    /// The moment `minutes` of business time after `start`.
    pub fn add_business(&self, start: Millis, minutes: i64) -> Millis {
        self.add_business_ms(start, minutes * MINUTE)
    }

    pub fn add_business_ms(&self, start: Millis, ms: i64) -> Millis {
        let mut left = ms.max(0);
        let mut date = self.local_date(start);
        // The day before too, in case an interval that started yesterday is still open.
        date = date.yesterday().unwrap_or(date);
        for _ in 0..HORIZON_DAYS {
            for (open, close) in self.day_intervals(date) {
                let from = open.max(start.0);
                if from >= close {
                    continue;
                }
                if left <= close - from {
                    return Millis(from + left);
                }
                left -= close - from;
            }
            match date.tomorrow() {
                Ok(d) => date = d,
                Err(_) => break,
            }
        }
        // Unreachable for a parsed calendar; a far-future deadline is the safe answer.
        Millis(start.0 + ms + (HORIZON_DAYS as i64) * 24 * 60 * MINUTE)
    }

    /// Business milliseconds between two moments (0 if `to` is not after `from`).
    pub fn business_between(&self, from: Millis, to: Millis) -> i64 {
        if to <= from {
            return 0;
        }
        let mut total = 0;
        let mut date = self
            .local_date(from)
            .yesterday()
            .unwrap_or(self.local_date(from));
        let last = self.local_date(to);
        while date <= last {
            for (open, close) in self.day_intervals(date) {
                let (a, b) = (open.max(from.0), close.min(to.0));
                if b > a {
                    total += b - a;
                }
            }
            match date.tomorrow() {
                Ok(d) => date = d,
                Err(_) => break,
            }
        }
        total
    }

    /// Whether the desk is open at `at`.
    pub fn is_open(&self, at: Millis) -> bool {
        let d = self.local_date(at);
        [d.yesterday().unwrap_or(d), d]
            .into_iter()
            .flat_map(|d| self.day_intervals(d))
            .any(|(o, c)| o <= at.0 && at.0 < c)
    }

    /// A moment in words, in the desk's time zone: "Tuesday 24 November, 14:00 (Europe/Berlin)".
    pub fn describe(&self, at: Millis) -> String {
        let z = Timestamp::from_millisecond(at.0)
            .unwrap_or(Timestamp::UNIX_EPOCH)
            .to_zoned(self.tz.clone());
        format!("{} ({})", z.strftime("%A %-d %B, %H:%M"), self.tz_name)
    }
}

/// Targets for one priority, in business minutes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SlaTarget {
    pub first_response_minutes: u32,
    pub next_update_minutes: u32,
    pub resolution_minutes: u32,
}

/// The desk's SLA policy: targets per priority and how early to warn the assignee.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SlaPolicy {
    pub warn_before_minutes: u32,
    pub low: SlaTarget,
    pub normal: SlaTarget,
    pub high: SlaTarget,
    pub urgent: SlaTarget,
}

impl Default for SlaPolicy {
    fn default() -> Self {
        let t = |f, n, r| SlaTarget {
            first_response_minutes: f,
            next_update_minutes: n,
            resolution_minutes: r,
        };
        SlaPolicy {
            warn_before_minutes: 30,
            low: t(8 * 60, 16 * 60, 5 * 8 * 60),
            normal: t(4 * 60, 8 * 60, 3 * 8 * 60),
            high: t(2 * 60, 4 * 60, 2 * 8 * 60),
            urgent: t(30, 60, 8 * 60),
        }
    }
}

impl SlaPolicy {
    pub fn target(&self, p: Priority) -> SlaTarget {
        match p {
            Priority::Low => self.low,
            Priority::Normal => self.normal,
            Priority::High => self.high,
            Priority::Urgent => self.urgent,
        }
    }

    pub fn validate(&self) -> Result<(), ValidationError> {
        for p in Priority::ALL {
            let t = self.target(*p);
            if [
                t.first_response_minutes,
                t.next_update_minutes,
                t.resolution_minutes,
            ]
            .contains(&0)
            {
                return Err(ValidationError::new(
                    "sla",
                    "invalid_target",
                    format!("Every {p} target must be at least one minute."),
                ));
            }
        }
        Ok(())
    }
}

/// What happened to a ticket, as far as its clocks care.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SlaEvent {
    Created,
    CustomerWrote,
    /// A message to the customer (a reply or a handoff). Notes do not count.
    AgentReplied,
    /// Status or priority changed without a message.
    Changed,
}

/// The three clocks a ticket carries. Deadlines are absolute; while the ticket waits
/// on the customer they are paused and, on resuming, pushed back by the business time
/// spent waiting. `warned`/`breached` are bit masks of [`SlaClock::bit`], so each
/// warning and each breach happens once per deadline.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct SlaClocks {
    pub first_response_due: Option<Millis>,
    pub next_update_due: Option<Millis>,
    pub resolution_due: Option<Millis>,
    pub paused_at: Option<Millis>,
    pub warned: u8,
    pub breached: u8,
}

/// Something the sweeper must do now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SlaAction {
    Warn(SlaClock),
    Breach(SlaClock),
}

impl SlaClocks {
    pub fn due(&self, c: SlaClock) -> Option<Millis> {
        match c {
            SlaClock::FirstResponse => self.first_response_due,
            SlaClock::NextUpdate => self.next_update_due,
            SlaClock::Resolution => self.resolution_due,
        }
    }

    fn set(&mut self, c: SlaClock, due: Option<Millis>) {
        match c {
            SlaClock::FirstResponse => self.first_response_due = due,
            SlaClock::NextUpdate => self.next_update_due = due,
            SlaClock::Resolution => self.resolution_due = due,
        }
        self.warned &= !c.bit();
        self.breached &= !c.bit();
    }

    /// The clocks after `event`, given the status before and after it.
    #[allow(clippy::too_many_arguments)]
    pub fn advance(
        mut self,
        policy: &SlaPolicy,
        cal: &Calendar,
        priority: Priority,
        before: Status,
        after: Status,
        event: SlaEvent,
        now: Millis,
    ) -> SlaClocks {
        let target = policy.target(priority);
        // Waiting on the customer stops the clocks; coming back resumes them, later by
        // exactly the business time that passed while waiting.
        if after == Status::PendingCustomer && self.paused_at.is_none() {
            self.paused_at = Some(now);
        }
        if after != Status::PendingCustomer
            && let Some(p) = self.paused_at.take()
        {
            let waited = cal.business_between(p, now);
            for c in SlaClock::ALL {
                if let Some(d) = self.due(*c) {
                    let (w, b) = (self.warned, self.breached);
                    self.set(*c, Some(cal.add_business_ms(d, waited)));
                    // A warning or breach already handled stays handled.
                    self.warned |= w & c.bit();
                    self.breached |= b & c.bit();
                }
            }
        }
        if !after.is_active() {
            // Resolved or closed: nothing is owed. Reopening starts fresh.
            self.first_response_due = None;
            self.next_update_due = None;
            self.resolution_due = None;
            self.paused_at = None;
            return self;
        }
        match event {
            SlaEvent::Created => {
                self.set(
                    SlaClock::FirstResponse,
                    Some(cal.add_business(now, target.first_response_minutes.into())),
                );
                self.set(
                    SlaClock::Resolution,
                    Some(cal.add_business(now, target.resolution_minutes.into())),
                );
            }
            SlaEvent::AgentReplied => {
                if self.first_response_due.is_some() {
                    self.set(SlaClock::FirstResponse, None);
                }
                let next = (after == Status::Open)
                    .then(|| cal.add_business(now, target.next_update_minutes.into()));
                self.set(SlaClock::NextUpdate, next);
            }
            SlaEvent::CustomerWrote => {
                if self.first_response_due.is_none() && self.next_update_due.is_none() {
                    self.set(
                        SlaClock::NextUpdate,
                        Some(cal.add_business(now, target.next_update_minutes.into())),
                    );
                }
            }
            SlaEvent::Changed => {}
        }
        if self.resolution_due.is_none() && !before.is_active() {
            // Reopened: the desk owes an end again.
            self.set(
                SlaClock::Resolution,
                Some(cal.add_business(now, target.resolution_minutes.into())),
            );
        }
        self
    }

    /// When the sweeper next needs to look at this ticket, if ever.
    pub fn next_check(&self, policy: &SlaPolicy) -> Option<Millis> {
        if self.paused_at.is_some() {
            return None;
        }
        let warn = i64::from(policy.warn_before_minutes) * MINUTE;
        SlaClock::ALL
            .iter()
            .filter_map(|c| {
                let due = self.due(*c)?;
                if self.breached & c.bit() != 0 {
                    None
                } else if self.warned & c.bit() == 0 && warn > 0 {
                    Some(Millis(due.0 - warn))
                } else {
                    Some(due)
                }
            })
            .min()
    }

    /// What is due at `now`, marking it handled. A breach implies its warning, so a
    /// ticket found late is escalated once and not also warned.
    pub fn take_due(&mut self, policy: &SlaPolicy, now: Millis) -> Vec<SlaAction> {
        if self.paused_at.is_some() {
            return vec![];
        }
        let warn = i64::from(policy.warn_before_minutes) * MINUTE;
        let mut actions = vec![];
        for c in SlaClock::ALL {
            let Some(due) = self.due(*c) else { continue };
            let bit = c.bit();
            if self.breached & bit == 0 && now >= due {
                self.breached |= bit;
                self.warned |= bit;
                actions.push(SlaAction::Breach(*c));
            } else if self.warned & bit == 0 && self.breached & bit == 0 && now.0 >= due.0 - warn {
                self.warned |= bit;
                actions.push(SlaAction::Warn(*c));
            }
        }
        actions
    }
}

/// A Unix-ms moment from an RFC 3339 string, for tools and tests that set the clock.
pub fn parse_instant(s: &str) -> Option<Millis> {
    s.parse::<Timestamp>()
        .ok()
        .map(|t| Millis(t.as_millisecond()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn at(s: &str) -> Millis {
        parse_instant(s).unwrap()
    }

    fn berlin() -> Calendar {
        Calendar::parse(&CalendarSpec {
            time_zone: "Europe/Berlin".into(),
            hours: vec![OpeningHours {
                days: ["mon", "tue", "wed", "thu", "fri"]
                    .map(String::from)
                    .to_vec(),
                open: "09:00".into(),
                close: "17:00".into(),
            }],
            holidays: vec!["2026-12-25".into()],
        })
        .unwrap()
    }

    #[test]
    fn business_time_skips_nights_weekends_and_holidays() {
        let c = berlin();
        // Friday 16:30 Berlin (15:30Z) + 60 min → Monday 09:30 Berlin.
        assert_eq!(
            c.add_business(at("2026-11-27T15:30:00Z"), 60),
            at("2026-11-30T08:30:00Z")
        );
        // Saturday: the clock starts Monday at opening.
        assert_eq!(
            c.add_business(at("2026-11-28T12:00:00Z"), 30),
            at("2026-11-30T08:30:00Z")
        );
        // Christmas Day (Friday) is closed: Thursday 16:00 + 2h → Monday 28 Dec 10:00.
        assert_eq!(
            c.add_business(at("2026-12-24T15:00:00Z"), 120),
            at("2026-12-28T09:00:00Z")
        );
        assert_eq!(
            c.business_between(at("2026-11-27T15:30:00Z"), at("2026-11-30T08:30:00Z")),
            60 * MINUTE
        );
        assert!(c.is_open(at("2026-11-30T08:30:00Z")));
        assert!(!c.is_open(at("2026-11-28T12:00:00Z")));
        assert_eq!(
            c.describe(at("2026-11-30T08:30:00Z")),
            "Monday 30 November, 09:30 (Europe/Berlin)"
        );
    }

    #[test]
    fn daylight_saving_days_keep_their_local_hours() {
        let c = berlin();
        // Friday 26 March 2027, 16:00 CET + 2h: one hour on Friday, then Monday from
        // 09:00 CEST (clocks went forward on Sunday).
        assert_eq!(
            c.add_business(at("2027-03-26T15:00:00Z"), 120),
            at("2027-03-29T08:00:00Z")
        );
    }

    #[test]
    fn calendars_are_checked() {
        let spec = CalendarSpec {
            time_zone: "Mars/Olympus".into(),
            ..Default::default()
        };
        assert_eq!(
            Calendar::parse(&spec).unwrap_err().code,
            "unknown_time_zone"
        );
        let mut spec = CalendarSpec::default();
        spec.hours[0].close = "08:00".into();
        assert_eq!(Calendar::parse(&spec).unwrap_err().code, "invalid_hours");
        let mut spec = CalendarSpec::default();
        spec.hours[0].days = vec!["funday".into()];
        assert_eq!(Calendar::parse(&spec).unwrap_err().code, "invalid_day");
        let mut spec = CalendarSpec::default();
        spec.hours.clear();
        assert_eq!(Calendar::parse(&spec).unwrap_err().code, "no_hours");
    }

    #[test]
    fn waiting_on_the_customer_pauses_and_replies_reset_the_next_update() {
        let c = berlin();
        let p = SlaPolicy::default();
        let t0 = at("2026-11-23T09:00:00Z"); // Monday 10:00 Berlin
        let s = SlaClocks::default().advance(
            &p,
            &c,
            Priority::Normal,
            Status::New,
            Status::New,
            SlaEvent::Created,
            t0,
        );
        assert_eq!(s.first_response_due, Some(at("2026-11-23T13:00:00Z")));
        // The agent answers and asks a question: the ticket waits, clocks pause.
        let t1 = at("2026-11-23T10:00:00Z");
        let s = s.advance(
            &p,
            &c,
            Priority::Normal,
            Status::New,
            Status::PendingCustomer,
            SlaEvent::AgentReplied,
            t1,
        );
        assert_eq!(s.first_response_due, None);
        assert_eq!(s.paused_at, Some(t1));
        assert_eq!(s.next_check(&p), None);
        let res = s.resolution_due.unwrap();
        // The customer answers the next morning: 7 business hours waited.
        let t2 = at("2026-11-24T09:00:00Z");
        let s = s.advance(
            &p,
            &c,
            Priority::Normal,
            Status::PendingCustomer,
            Status::Open,
            SlaEvent::CustomerWrote,
            t2,
        );
        assert_eq!(s.paused_at, None);
        assert_eq!(
            s.resolution_due,
            Some(c.add_business_ms(res, 7 * 60 * MINUTE))
        );
        assert_eq!(s.next_update_due, Some(c.add_business(t2, 8 * 60)));
    }

    #[test]
    fn each_deadline_warns_once_and_breaches_once() {
        let c = berlin();
        let p = SlaPolicy::default();
        let t0 = at("2026-11-23T09:00:00Z");
        let mut s = SlaClocks::default().advance(
            &p,
            &c,
            Priority::Urgent,
            Status::New,
            Status::New,
            SlaEvent::Created,
            t0,
        );
        let due = s.first_response_due.unwrap();
        assert_eq!(s.next_check(&p), Some(Millis(due.0 - 30 * MINUTE)));
        assert_eq!(s.take_due(&p, Millis(due.0 - 31 * MINUTE)), vec![]);
        assert_eq!(
            s.take_due(&p, Millis(due.0 - 10 * MINUTE)),
            vec![SlaAction::Warn(SlaClock::FirstResponse)]
        );
        assert_eq!(s.take_due(&p, Millis(due.0 - 5 * MINUTE)), vec![]);
        assert_eq!(
            s.take_due(&p, due),
            vec![SlaAction::Breach(SlaClock::FirstResponse)]
        );
        assert_eq!(s.take_due(&p, Millis(due.0 + 1)), vec![]);
    }

    proptest! {
        /// Adding business time and measuring it back agree, for any start and length.
        #[test]
        fn add_and_between_agree(start in 1_700_000_000_000i64..1_900_000_000_000, minutes in 0i64..20_000) {
            let c = berlin();
            let end = c.add_business(Millis(start), minutes);
            prop_assert!(end.0 >= start);
            prop_assert_eq!(c.business_between(Millis(start), end), minutes * MINUTE);
        }

        /// However often the sweeper looks, each clock breaches at most once.
        #[test]
        fn sweeping_never_breaches_twice(looks in prop::collection::vec(0i64..3_000_000_000, 1..30)) {
            let c = berlin();
            let p = SlaPolicy::default();
            let t0 = at("2026-11-23T09:00:00Z");
            let mut s = SlaClocks::default().advance(&p, &c, Priority::High, Status::New, Status::New, SlaEvent::Created, t0);
            let mut looks = looks;
            looks.sort_unstable();
            let mut breaches = 0;
            for l in looks {
                breaches += s.take_due(&p, Millis(t0.0 + l)).iter().filter(|a| matches!(a, SlaAction::Breach(_))).count();
            }
            prop_assert!(breaches <= 2);
        }
    }
}
