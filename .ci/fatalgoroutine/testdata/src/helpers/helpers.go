// Package helpers is imported by a: its facts cross the package boundary.
package helpers

import "testing"

// Must ends the test on a failure.
func Must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%v", err)
	}
}

// Together runs f n times, each on a goroutine of its own.
func Together(n int, f func(i int)) {
	done := make(chan struct{})
	for i := 0; i < n; i++ {
		go func() {
			f(i)
			done <- struct{}{}
		}()
	}
	for i := 0; i < n; i++ {
		<-done
	}
}
