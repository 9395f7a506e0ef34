package a

import (
	"errors"
	"sync"
	"testing"

	"helpers"
)

type server struct{}

func (s *server) get(t *testing.T) string { // want get:`endsTest\(\(\*testing.common\).Fatal\)`
	t.Helper()
	return s.do(t)
}

func (s *server) do(t *testing.T) string { // want do:`endsTest`
	t.Fatal("unreachable")
	return ""
}

func (s *server) tryGet() (string, error) { return "", errors.New("x") }

func spawn(f func()) { go f() } // want spawn:`spawnsParams\(\[0\]\)`

func TestDirect(t *testing.T) {
	go func() {
		t.Fatal("x") // want `call to t.Fatal on a goroutine other than the test's`
	}()
}

func TestThroughHelpers(t *testing.T) {
	s := &server{}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		_ = s.get(t)         // want `call to s.get on a goroutine other than the test's: it may call \(\*testing.common\).Fatal`
		helpers.Must(t, nil) // want `call to helpers.Must .*\(testing.TB\).Fatalf`
		if _, err := s.tryGet(); err != nil {
			t.Error(err) // fine: Error does not stop the goroutine
		}
	}()
	wg.Wait()
}

func TestBoundLiteral(t *testing.T) { // want TestBoundLiteral:`endsTest`
	check := func(ok bool) {
		if !ok {
			t.Fatalf("not ok")
		}
	}
	check(true) // fine: the test's goroutine
	var wg sync.WaitGroup
	wg.Go(func() {
		check(false) // want `call to check on a goroutine other than the test's`
	})
	wg.Wait()
}

func TestCallbacksOfSpawners(t *testing.T) {
	s := &server{}
	helpers.Together(2, func(i int) {
		s.get(t) // want `call to s.get on a goroutine`
	})
	helpers.Together(2, func(i int) {
		_, _ = s.tryGet() // fine
	})
	spawn(func() {
		t.SkipNow() // want `call to t.SkipNow on a goroutine`
	})
	go s.do(t) // want `go s.do runs on a goroutine other than the test's`
}

func TestSubtestsRunOnTestGoroutines(t *testing.T) {
	go func() {
		t.Run("sub", func(t *testing.T) {
			t.Fatal("fine: a subtest's own goroutine")
		})
	}()
	t.Run("sub", func(t *testing.T) {
		(&server{}).get(t) // fine
	})
}
