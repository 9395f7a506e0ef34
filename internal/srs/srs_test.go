package srs

import (
	"errors"
	"testing"
	"time"
)

var t0 = time.Date(2025, 3, 30, 0, 30, 0, 0, time.UTC)

func TestNewCardIsDueAtOnce(t *testing.T) {
	got := New(t0)
	want := State{Ease: 2.5, DueAt: t0}
	if got != want {
		t.Errorf("New = %+v, want %+v", got, want)
	}
}

// step is the state expected after one more review.
type step struct {
	grade    int
	interval int
	ease     float64
	streak   int
}

func TestReviewFollowsSM2(t *testing.T) {
	tests := []struct {
		name  string
		from  State
		steps []step
	}{
		{"perfect grades grow by the new ease", New(t0), []step{
			{5, 1, 2.6, 1}, {5, 6, 2.7, 2}, {5, 17, 2.8, 3}, {5, 49, 2.9, 4},
		}},
		{"grade 4 keeps the ease", New(t0), []step{
			{4, 1, 2.5, 1}, {4, 6, 2.5, 2}, {4, 15, 2.5, 3}, {4, 38, 2.5, 4},
		}},
		{"grade 3 lowers the ease and shortens the interval at once", New(t0), []step{
			{3, 1, 2.36, 1}, {3, 6, 2.22, 2}, {3, 12, 2.08, 3},
		}},
		{"a lapse restarts the streak and keeps the lowered ease", New(t0), []step{
			{5, 1, 2.6, 1}, {5, 6, 2.7, 2}, {5, 17, 2.8, 3},
			{2, 1, 2.48, 0},
			{4, 1, 2.48, 1}, {4, 6, 2.48, 2}, {4, 15, 2.48, 3}, // 6 × 2.48 = 14.88
		}},
		{"every lapse grade is due in a day", New(t0), []step{
			{2, 1, 2.18, 0}, {1, 1, 1.64, 0}, {5, 1, 1.74, 1}, {0, 1, 1.3, 0},
		}},
		{"repeated blackouts stop at the ease floor", New(t0), []step{
			{0, 1, 1.7, 0}, {0, 1, 1.3, 0}, {0, 1, 1.3, 0}, {0, 1, 1.3, 0},
			{5, 1, 1.4, 1}, {5, 6, 1.5, 2}, {5, 10, 1.6, 3}, // 6 × 1.6 = 9.6
		}},
		{"halves round up", State{IntervalDays: 5, Ease: 2.6, Streak: 2, Reviews: 2}, []step{
			{4, 13, 2.6, 3}, // 5 × 2.6 = 13.0
		}},
		{"the interval stops at MaxIntervalDays", State{IntervalDays: 30000, Ease: 2.5, Streak: 9, Reviews: 9}, []step{
			{5, MaxIntervalDays, 2.6, 10}, {5, MaxIntervalDays, 2.7, 11},
		}},
		{"an ease read back from storage is snapped to hundredths", State{IntervalDays: 6, Ease: 2.7000000000000006, Streak: 2, Reviews: 2}, []step{
			{5, 17, 2.8, 3},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, now := tt.from, t0
			for i, st := range tt.steps {
				now = now.Add(time.Duration(i+1) * time.Hour) // reviews need not fall on the due time
				next, err := Review(s, st.grade, now)
				if err != nil {
					t.Fatalf("review %d (grade %d): %v", i+1, st.grade, err)
				}
				want := State{
					IntervalDays: st.interval,
					Ease:         st.ease,
					Reviews:      s.Reviews + 1,
					Streak:       st.streak,
					DueAt:        now.Add(time.Duration(st.interval) * 24 * time.Hour),
				}
				if next != want {
					t.Fatalf("review %d (grade %d) of %+v\n got %+v\nwant %+v", i+1, st.grade, s, next, want)
				}
				s = next
			}
		})
	}
}

func TestReviewRejectsGradesOutside0To5(t *testing.T) {
	for _, grade := range []int{-1, 6, 100} {
		if got, err := Review(New(t0), grade, t0); !errors.Is(err, ErrBadGrade) || got != (State{}) {
			t.Errorf("Review(grade %d) = %+v, %v; want ErrBadGrade", grade, got, err)
		}
	}
	for grade := 0; grade <= 5; grade++ {
		if _, err := Review(New(t0), grade, t0); err != nil {
			t.Errorf("Review(grade %d): %v", grade, err)
		}
	}
}
