//! Touch on the control chart: one finger dragged sideways pans the points shown, two fingers
//! pinched zoom them around the middle of the view. A gesture is measured from where it began
//! (the range and the fingers then), so the view follows the fingers without drift; a finger
//! lifted or added begins a new one. Mouse input never comes here.

/// The fewest points a pinch shows (as the zoom buttons).
const MIN_POINTS: usize = 10;
/// Fingers closer than this (CSS pixels) are too close to measure a pinch by.
const MIN_DISTANCE: f64 = 10.0;

/// The view after a finger dragged `dx` CSS pixels across a chart `width` pixels wide that
/// showed `from` of `len` points: the points move with the finger, and the view stays within
/// the points there are.
pub fn panned(from: (usize, usize), len: usize, dx: f64, width: f64) -> (usize, usize) {
    let (a, b) = (from.0 as f64, from.1 as f64);
    let shift = (-dx / width.max(1.0) * (b - a)).round();
    let a = (a + shift).clamp(0.0, (len as f64 - (b - a)).max(0.0));
    (
        a as usize,
        (a + (from.1 - from.0) as f64).min(len as f64) as usize,
    )
}

/// The view after two fingers moved from `d0` to `d1` CSS pixels apart on a chart that showed
/// `from` of `len` points: the span shrinks as the fingers spread (by `d0 / d1`), around its
/// middle, between [`MIN_POINTS`] and all points.
pub fn pinched(from: (usize, usize), len: usize, d0: f64, d1: f64) -> (usize, usize) {
    let span = ((from.1 - from.0) as f64 * d0 / d1.max(1.0)).round() as usize;
    let span = span.clamp(MIN_POINTS.min(len), len);
    let mid = (from.0 + from.1) / 2;
    let a = mid.saturating_sub(span / 2).min(len - span);
    (a, a + span)
}

/// A finger's position on the chart, in CSS pixels.
type Point = (f64, f64);

/// The fingers on the chart and where the gesture began.
#[derive(Debug, Default)]
pub struct Touches {
    /// Each finger: its pointer id and position now.
    fingers: Vec<(i32, Point)>,
    /// The view and the fingers' positions when the gesture began.
    began: Option<((usize, usize), Vec<Point>)>,
}

fn distance(p: (f64, f64), q: (f64, f64)) -> f64 {
    (p.0 - q.0).hypot(p.1 - q.1)
}

impl Touches {
    /// A finger touched the chart, which shows `view`.
    pub fn down(&mut self, id: i32, at: (f64, f64), view: (usize, usize)) {
        self.fingers.retain(|f| f.0 != id);
        self.fingers.push((id, at));
        self.begin(view);
    }

    /// A finger left the chart (or the browser took it over); the others go on from `view`.
    pub fn up(&mut self, id: i32, view: (usize, usize)) {
        self.fingers.retain(|f| f.0 != id);
        self.begin(view);
    }

    fn begin(&mut self, view: (usize, usize)) {
        let at = self.fingers.iter().map(|f| f.1).collect();
        self.began = (!self.fingers.is_empty()).then_some((view, at));
    }

    /// A finger moved on a chart `width` pixels wide of `len` points: the view to show now,
    /// if the gesture changes it.
    pub fn moved(
        &mut self,
        id: i32,
        at: (f64, f64),
        len: usize,
        width: f64,
    ) -> Option<(usize, usize)> {
        let finger = self.fingers.iter_mut().find(|f| f.0 == id)?;
        finger.1 = at;
        let (view, then) = self.began.as_ref()?;
        if len == 0 {
            return None;
        }
        match (self.fingers.as_slice(), then.as_slice()) {
            ([(_, now)], [was]) => Some(panned(*view, len, now.0 - was.0, width)),
            ([(_, p), (_, q)], [p0, q0]) if distance(*p0, *q0) >= MIN_DISTANCE => {
                Some(pinched(*view, len, distance(*p0, *q0), distance(*p, *q)))
            }
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_drag_moves_the_points_with_the_finger_and_stops_at_the_ends() {
        // 100 points shown on 500 px: 5 px a point. A drag to the right shows earlier points.
        assert_eq!(panned((200, 300), 1000, 100.0, 500.0), (180, 280));
        assert_eq!(panned((200, 300), 1000, -100.0, 500.0), (220, 320));
        assert_eq!(panned((10, 110), 1000, 500.0, 500.0), (0, 100));
        assert_eq!(panned((850, 950), 1000, -500.0, 500.0), (900, 1000));
        assert_eq!(panned((0, 50), 50, -80.0, 500.0), (0, 50));
    }

    #[test]
    fn a_pinch_zooms_around_the_middle_within_the_points_there_are() {
        // Fingers spread to twice their distance: half the points, same middle.
        assert_eq!(pinched((200, 400), 1000, 100.0, 200.0), (250, 350));
        // Closer: twice the points.
        assert_eq!(pinched((200, 400), 1000, 200.0, 100.0), (100, 500));
        assert_eq!(pinched((0, 1000), 1000, 200.0, 100.0), (0, 1000));
        assert_eq!(pinched((900, 1000), 1000, 100.0, 50.0), (800, 1000));
        assert_eq!(pinched((200, 400), 1000, 10.0, 1000.0), (295, 305));
        assert_eq!(pinched((0, 6), 6, 10.0, 100.0), (0, 6));
    }

    #[test]
    fn one_finger_pans_two_pinch_and_a_lifted_finger_begins_again() {
        let mut t = Touches::default();
        assert_eq!(t.moved(1, (0.0, 0.0), 1000, 500.0), None, "no finger down");
        t.down(1, (300.0, 50.0), (200, 300));
        assert_eq!(t.moved(1, (400.0, 60.0), 1000, 500.0), Some((180, 280)));
        t.down(2, (100.0, 50.0), (180, 280));
        // Fingers 300 px apart spread to 600: half the points around the middle.
        assert_eq!(t.moved(2, (-200.0, 50.0), 1000, 500.0), Some((205, 255)));
        t.up(2, (205, 255));
        // Finger 1 goes on panning from where it is now.
        assert_eq!(t.moved(1, (350.0, 60.0), 1000, 500.0), Some((210, 260)));
        t.up(1, (210, 260));
        assert_eq!(t.moved(1, (0.0, 0.0), 1000, 500.0), None);
    }
}
