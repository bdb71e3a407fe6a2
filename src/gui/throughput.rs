//! Bytes per second in and out of a connection over the last minute, counted as the window
//! drains the engine's events (so a flood costs the engine nothing more), and drawn as the
//! lines of a rate graph.

use std::collections::VecDeque;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use slint::{ModelRc, VecModel};

use super::ui::Rates;
use crate::payload::ByteCount;

/// The seconds a graph shows.
pub const SECONDS: usize = 60;

/// Every graph counts whole seconds from the same moment, so one clock moves them all.
fn since_origin(now: Instant) -> Duration {
    static ORIGIN: OnceLock<Instant> = OnceLock::new();
    now.saturating_duration_since(*ORIGIN.get_or_init(|| now))
}

fn second_of(now: Instant) -> u64 {
    since_origin(now).as_secs()
}

/// How long from `now` until the next whole second of the graphs' clock.
pub fn until_next_second(now: Instant) -> Duration {
    Duration::from_secs(1) - Duration::from_nanos(since_origin(now).subsec_nanos().into())
}

/// One second's bytes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Sample {
    pub received: u64,
    pub sent: u64,
}

/// The seconds with traffic of the last minute.
#[derive(Debug, Default)]
pub struct Throughput {
    /// (second, its bytes), oldest first.
    seconds: VecDeque<(u64, Sample)>,
}

impl Throughput {
    pub fn received(&mut self, bytes: usize) {
        self.add(Instant::now(), bytes as u64, 0);
    }

    pub fn sent(&mut self, bytes: usize) {
        self.add(Instant::now(), 0, bytes as u64);
    }

    pub fn add(&mut self, now: Instant, received: u64, sent: u64) {
        let second = second_of(now);
        match self.seconds.back_mut() {
            Some((last, sample)) if *last == second => {
                sample.received += received;
                sample.sent += sent;
            }
            _ => self.seconds.push_back((second, Sample { received, sent })),
        }
        while (self.seconds.front()).is_some_and(|(first, _)| first + (SECONDS as u64) < second) {
            self.seconds.pop_front();
        }
    }

    /// The last `SECONDS` whole seconds before the one `now` is in, oldest first.
    pub fn samples(&self, now: Instant) -> [Sample; SECONDS] {
        let current = second_of(now);
        let mut samples = [Sample::default(); SECONDS];
        for (second, sample) in &self.seconds {
            let ago = current.saturating_sub(*second) as usize;
            if (1..=SECONDS).contains(&ago) {
                samples[SECONDS - ago] = *sample;
            }
        }
        samples
    }

    /// Whether the graph will still change with time alone: traffic within the last minute.
    pub fn moving(&self, now: Instant) -> bool {
        (self.seconds.back()).is_some_and(|(last, _)| last + (SECONDS as u64) >= second_of(now))
    }

    /// The graph as the window draws it, titled `title`.
    pub fn rates(&self, title: String, now: Instant) -> Rates {
        let samples = self.samples(now);
        let peak = (samples.iter())
            .map(|s| s.received.max(s.sent))
            .max()
            .unwrap_or(0);
        let latest = samples[SECONDS - 1];
        let ints = |pick: fn(&Sample) -> u64| {
            let values: Vec<i32> = (samples.iter())
                .map(|s| i32::try_from(pick(s)).unwrap_or(i32::MAX))
                .collect();
            ModelRc::new(VecModel::from(values))
        };
        Rates {
            title: title.into(),
            received_line: line(&samples, peak, |s| s.received).into(),
            sent_line: line(&samples, peak, |s| s.sent).into(),
            received: ints(|s| s.received),
            sent: ints(|s| s.sent),
            latest: format!(
                "in {}/s · out {}/s",
                ByteCount(latest.received),
                ByteCount(latest.sent)
            )
            .into(),
            peak: format!("peak {}/s", ByteCount(peak)).into(),
        }
    }
}

/// Path commands for one direction's samples in a 60 x 100 box, the peak at the top.
fn line(samples: &[Sample; SECONDS], peak: u64, pick: fn(&Sample) -> u64) -> String {
    let mut commands = String::with_capacity(SECONDS * 12);
    for (second, sample) in samples.iter().enumerate() {
        let height = match peak {
            0 => 0.0,
            peak => pick(sample) as f64 * 100.0 / peak as f64,
        };
        let verb = if second == 0 { 'M' } else { 'L' };
        let x = second as f64 * 60.0 / (SECONDS - 1) as f64;
        commands.push_str(&format!("{verb} {x:.2} {:.1} ", 100.0 - height));
    }
    commands
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn samples_are_whole_seconds_ending_before_the_current_one() {
        let start = Instant::now();
        let at = |seconds: u64| start + Duration::from_secs(seconds) + Duration::from_millis(10);
        second_of(start);
        let mut throughput = Throughput::default();
        throughput.add(at(1), 100, 0);
        throughput.add(at(1), 50, 7);
        throughput.add(at(3), 0, 20);
        let samples = throughput.samples(at(4));
        assert_eq!(
            samples[SECONDS - 3],
            Sample {
                received: 150,
                sent: 7
            }
        );
        assert_eq!(samples[SECONDS - 2], Sample::default());
        assert_eq!(
            samples[SECONDS - 1],
            Sample {
                received: 0,
                sent: 20
            }
        );
        assert!(throughput.moving(at(63)));
        assert!(!throughput.moving(at(64)));
        assert_eq!(throughput.samples(at(70)), [Sample::default(); SECONDS]);
    }
}
