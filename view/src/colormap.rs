//! A perceptually ordered dark-to-bright colormap (magma-like) for heat maps.

use egui::Color32;

const STOPS: [(f32, [u8; 3]); 6] = [
    (0.0, [0, 0, 4]),
    (0.2, [44, 17, 95]),
    (0.4, [114, 31, 129]),
    (0.6, [183, 55, 121]),
    (0.8, [251, 135, 97]),
    (1.0, [252, 253, 191]),
];

/// Colour of `value` in 0..=1 (clamped; NaN reads as 0).
pub fn magma(value: f32) -> Color32 {
    let v = if value.is_nan() {
        0.0
    } else {
        value.clamp(0.0, 1.0)
    };
    let i = STOPS
        .iter()
        .position(|s| s.0 >= v)
        .unwrap_or(STOPS.len() - 1)
        .max(1);
    let ((a, ca), (b, cb)) = (STOPS[i - 1], STOPS[i]);
    let t = (v - a) / (b - a);
    let mix = |k: usize| (ca[k] as f32 + (cb[k] as f32 - ca[k] as f32) * t).round() as u8;
    Color32::from_rgb(mix(0), mix(1), mix(2))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ends_and_order() {
        assert_eq!(magma(0.0), Color32::from_rgb(0, 0, 4));
        assert_eq!(magma(1.0), Color32::from_rgb(252, 253, 191));
        assert_eq!(magma(f32::NAN), magma(0.0));
        let brightness = |c: Color32| c.r() as u32 + c.g() as u32 + c.b() as u32;
        assert!(
            (0..10)
                .all(|i| brightness(magma(i as f32 / 10.0))
                    < brightness(magma((i + 1) as f32 / 10.0)))
        );
    }
}
