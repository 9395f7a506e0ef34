// Command fatalgoroutine is a go vet tool: it reports calls that end a
// test (t.Fatal, t.Fatalf, t.FailNow, t.Skip, t.Skipf, t.SkipNow, testify's
// require) made on a goroutine other than the test's, directly or through
// helpers. Such a call stops only the goroutine that makes it
// (runtime.Goexit): the test runs on, and a worker it waits for is gone.
//
// go vet's testinggoroutine and staticcheck's SA2002 see only calls written
// in the goroutine's own body. This tool also follows calls to the
// package's functions and methods, to functions of imported packages
// (through analysis facts), to function literals bound to variables, and
// callbacks handed to a function that runs them on a goroutine of its own
// (a start-gun helper).
//
// Usage, from the module to check:
//
//	go build -o /tmp/fatalgoroutine ./.ci/fatalgoroutine  # in its own module
//	go vet -vettool=/tmp/fatalgoroutine ./...
package main

import "golang.org/x/tools/go/analysis/unitchecker"

func main() { unitchecker.Main(Analyzer) }
