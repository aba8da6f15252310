use std::time::Instant;
use canary_analytics::ta::{WatchSetBuffers, watch_set};
fn main() {
    let n: usize = std::env::args().nth(1).map_or(10_000_000, |a| a.parse().unwrap());
    let c: Vec<f64> = (0..n).map(|i| 60000.0 + (i % 1000) as f64).collect();
    let mut w = WatchSetBuffers::with_len(n);
    for _ in 0..3 {
        let t = Instant::now();
        let WatchSetBuffers { ema_20, ema_50, ema_200, rsi_14, atr_14, bb_upper, bb_middle, bb_lower, macd, macd_signal, macd_hist, drawdown, rv_30 } = &mut w;
        let mut cols: [&mut [f64]; 13] = [&mut ema_20[..n], &mut ema_50[..n], &mut ema_200[..n], &mut rsi_14[..n], &mut atr_14[..n], &mut bb_upper[..n], &mut bb_middle[..n], &mut bb_lower[..n], &mut macd[..n], &mut macd_signal[..n], &mut macd_hist[..n], &mut drawdown[..n], &mut rv_30[..n]];
        for i in 0..n {
            let x = c[i];
            for (k, col) in cols.iter_mut().enumerate() { col[i] = x + k as f64; }
        }
        println!("write13 {:.2} ns", t.elapsed().as_secs_f64() * 1e9 / n as f64);
    }
    let mut s = 0.0;
    for _ in 0..3 {
        let t = Instant::now();
        for i in 1..n { s += (c[i] / c[i - 1]).ln(); }
        println!("ln {:.2} ns {s}", t.elapsed().as_secs_f64() * 1e9 / n as f64);
    }
    for _ in 0..3 {
        let t = Instant::now();
        watch_set(&c, &c, &c, 365.0, &mut w).unwrap();
        println!("watch {:.2} ns", t.elapsed().as_secs_f64() * 1e9 / n as f64);
    }
}
