//! Summaries of repeated measurements: the median and the 95th percentile.

/// The median and 95th percentile of a set of samples, in their unit.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Summary {
    /// The middle value (the mean of the two middle ones for an even count).
    pub(crate) median: f64,
    /// The nearest-rank 95th percentile: the smallest sample that at least
    /// 95% of the samples do not exceed.
    pub(crate) p95: f64,
    /// How many samples.
    pub(crate) n: usize,
}

/// Summarises `samples`; `None` when there are none.
pub(crate) fn summarise(samples: &[f64]) -> Option<Summary> {
    if samples.is_empty() {
        return None;
    }
    let mut sorted = samples.to_vec();
    sorted.sort_by(f64::total_cmp);
    let n = sorted.len();
    let median = if n % 2 == 1 {
        sorted[n / 2]
    } else {
        (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0
    };
    // Nearest rank: ceil(0.95 n), 1-based.
    let rank = (n * 95).div_ceil(100).max(1);
    Some(Summary {
        median,
        p95: sorted[rank - 1],
        n,
    })
}

#[cfg(test)]
mod tests {
    use super::summarise;

    #[test]
    fn nothing_to_summarise_is_none() {
        assert_eq!(summarise(&[]), None);
    }

    #[test]
    fn one_sample_is_its_own_median_and_p95() {
        let s = summarise(&[4.0]).unwrap();
        assert_eq!((s.median, s.p95, s.n), (4.0, 4.0, 1));
    }

    #[test]
    fn the_median_of_an_even_count_is_the_mean_of_the_middle_two_in_any_order() {
        let s = summarise(&[9.0, 1.0, 3.0, 5.0]).unwrap();
        assert_eq!(s.median, 4.0);
        assert_eq!(s.p95, 9.0);
    }

    #[test]
    fn the_p95_of_twenty_is_the_nineteenth_smallest() {
        let samples: Vec<f64> = (1..=20).rev().map(f64::from).collect();
        let s = summarise(&samples).unwrap();
        assert_eq!(s.median, 10.5);
        assert_eq!(s.p95, 19.0);
    }

    #[test]
    fn the_p95_of_a_hundred_leaves_five_above_it() {
        let samples: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(summarise(&samples).unwrap().p95, 95.0);
    }
}
