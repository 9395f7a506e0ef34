// Package srs schedules flashcard reviews with SM-2, the SuperMemo 2
// algorithm. It is pure: no I/O, no clock; the caller passes the time.
//
// One review with grade q (0 = blackout … 5 = perfect recall) does this:
//
//   - The ease becomes max(1.3, ease + 0.1 − (5−q)·(0.08 + (5−q)·0.02)),
//     for every grade, lapses included. Ease is kept in hundredths (every
//     step of the formula is a whole number of hundredths), so it never
//     drifts and compares exactly after a round trip through storage.
//   - A grade below 3 is a lapse: the streak of consecutive successes
//     restarts at 0 and the card is due again in 1 day.
//   - A grade of 3 or more extends the streak. The first success of a streak
//     is due in 1 day, the second in 6, each later one in the previous
//     interval times the ease just computed by this review (as in the
//     original SM-2, so this review's grade already shapes its interval),
//     rounded half up to whole days and capped at [MaxIntervalDays].
//   - Reviews counts every review, lapses included; DueAt is the review time
//     plus the interval in days of 24 hours.
//
// From a new card, three perfect reviews give intervals 1, 6 and 17 days
// (6 × 2.8 = 16.8, the ease having risen to 2.6, 2.7 and 2.8).
package srs

import (
	"errors"
	"math"
	"time"
)

// ErrBadGrade is returned by [Review] for a grade outside 0..5.
var ErrBadGrade = errors.New("grade outside 0..5")

const (
	// InitialEase is the ease of a new card.
	InitialEase = 2.5
	// MinEase is the floor that lapses cannot push the ease below.
	MinEase = 1.3
	// MaxIntervalDays caps the interval (about 100 years), so that a long
	// run of perfect grades cannot overflow the due time.
	MaxIntervalDays = 36500
)

// State is a card's schedule.
type State struct {
	// IntervalDays is the gap between the last review and DueAt; 0 for a
	// card never reviewed.
	IntervalDays int
	// Ease is the SM-2 easiness factor, at least MinEase.
	Ease float64
	// Reviews counts every review, lapses included.
	Reviews int
	// Streak counts the successful reviews (grade ≥ 3) since the last lapse;
	// it picks the 1-day and 6-day steps.
	Streak int
	// DueAt is when the card should next be reviewed.
	DueAt time.Time
}

// New returns the schedule of a card created at now: due at once, ease
// 2.5, no interval, no reviews.
func New(now time.Time) State {
	return State{Ease: InitialEase, DueAt: now}
}

// CheckGrade returns ErrBadGrade unless grade is 0..5, so a caller can
// refuse a review before loading the card.
func CheckGrade(grade int) error {
	if grade < 0 || grade > 5 {
		return ErrBadGrade
	}
	return nil
}

// Review returns s after one review with grade 0..5 at time now, or
// ErrBadGrade.
func Review(s State, grade int, now time.Time) (State, error) {
	if err := CheckGrade(grade); err != nil {
		return State{}, err
	}
	miss := 5 - grade
	ease := int(math.Round(s.Ease*100)) + 10 - miss*(8+miss*2) // hundredths
	ease = max(ease, int(MinEase*100))

	var interval, streak int
	switch {
	case grade < 3:
		interval, streak = 1, 0
	case s.Streak == 0:
		interval, streak = 1, 1
	case s.Streak == 1:
		interval, streak = 6, 2
	default:
		prev := min(max(s.IntervalDays, 1), MaxIntervalDays)
		interval, streak = (prev*ease+50)/100, s.Streak+1
	}
	interval = min(interval, MaxIntervalDays)

	return State{
		IntervalDays: interval,
		Ease:         float64(ease) / 100,
		Reviews:      s.Reviews + 1,
		Streak:       streak,
		DueAt:        now.Add(time.Duration(interval) * 24 * time.Hour),
	}, nil
}
