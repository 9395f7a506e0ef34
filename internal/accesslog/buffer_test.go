package accesslog

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"
	"time"
)

// writes records every Write it receives, as its own chunk.
type writes struct {
	mu     sync.Mutex
	chunks []string
}

func (w *writes) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.chunks = append(w.chunks, string(p))
	return len(p), nil
}

func (w *writes) all() (string, []string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return strings.Join(w.chunks, ""), append([]string(nil), w.chunks...)
}

func TestBufferWritesEveryLineInOrderInAtomicBatches(t *testing.T) {
	tests := []struct {
		name  string
		lines []string
	}{
		{"one line", []string{"a=1\n"}},
		{"many short lines", repeat(5000, func(i int) string { return fmt.Sprintf("time=%d msg=request\n", i) })},
		{"lines near the batch size", repeat(20, func(i int) string { return strings.Repeat("x", batchMax-1-i) + "\n" })},
		{"a line longer than a batch, between short ones", []string{"a\n", strings.Repeat("y", 3*batchMax) + "\n", "b\n"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := &writes{}
			b := NewBuffer(w, time.Hour, false) // only size and Close flush here
			for _, l := range tt.lines {
				b.Write([]byte(l))
			}
			if err := b.Close(); err != nil {
				t.Fatal(err)
			}
			got, chunks := w.all()
			if want := strings.Join(tt.lines, ""); got != want {
				t.Fatalf("wrote %d bytes, want the %d bytes written, in order", len(got), len(want))
			}
			for _, c := range chunks {
				if !strings.HasSuffix(c, "\n") {
					t.Fatalf("a write ends mid-line: %q", c[max(0, len(c)-20):])
				}
				if len(c) > batchMax && strings.Count(c, "\n") > 1 {
					t.Fatalf("a write of %d bytes holds several lines: not atomic on a pipe", len(c))
				}
			}
		})
	}
}

func TestBufferWritesWithinItsInterval(t *testing.T) {
	w := &writes{}
	b := NewBuffer(w, 10*time.Millisecond, false)
	defer b.Close()
	b.Write([]byte("msg=request\n"))
	deadline := time.Now().Add(5 * time.Second)
	for {
		if got, _ := w.all(); got == "msg=request\n" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("the line was not written without Close")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestBufferConcurrentWritersKeepLinesWhole(t *testing.T) {
	w := &writes{}
	b := NewBuffer(w, time.Millisecond, false)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 2000 {
				Write(b, time.Unix(0, 0), "POST", fmt.Sprintf("/g%d/%d", g, i), 200, time.Millisecond)
			}
		}()
	}
	wg.Wait()
	b.Close()
	got, _ := w.all()
	lines := strings.Split(strings.TrimSuffix(got, "\n"), "\n")
	if len(lines) != 8*2000 {
		t.Fatalf("%d lines, want %d", len(lines), 8*2000)
	}
	seen := map[string]bool{}
	for _, l := range lines {
		if !strings.HasPrefix(l, "time=") || !strings.HasSuffix(l, "duration=1ms") {
			t.Fatalf("a broken line: %q", l)
		}
		seen[l] = true
	}
	if len(seen) != 8*2000 {
		t.Fatalf("%d distinct lines, want %d", len(seen), 8*2000)
	}
}

func repeat(n int, f func(int) string) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = f(i)
	}
	return out
}

func BenchmarkBufferedWrite(b *testing.B) {
	buf := NewBuffer(io.Discard, time.Hour, false)
	defer buf.Close()
	b.ReportAllocs()
	for b.Loop() {
		Write(buf, time.Now(), "POST", "/graphql", 200, time.Millisecond)
	}
}
