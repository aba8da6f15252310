use canary_analytics::ta::{WatchSetBuffers, watch_set};
use std::time::Instant;
fn main() {
    for n in [4_000usize, 10_000_000] {
        let c: Vec<f64> = (0..n)
            .map(|i| 60000.0 + ((i * 7919) % 1000) as f64)
            .collect();
        let h: Vec<f64> = c.iter().map(|x| x + 5.0).collect();
        let l: Vec<f64> = c.iter().map(|x| x - 5.0).collect();
        let mut w = WatchSetBuffers::with_len(n);
        let reps = (20_000_000 / n).max(5);
        let mut best = f64::INFINITY;
        for _ in 0..reps {
            let t = Instant::now();
            watch_set(&h, &l, &c, 365.0, &mut w).unwrap();
            best = best.min(t.elapsed().as_secs_f64());
        }
        print!("n={n}: {:.2}  ", best * 1e9 / n as f64);
    }
    println!();
}
