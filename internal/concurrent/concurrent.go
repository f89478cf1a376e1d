// Package concurrent holds the one way the repository's concurrency tests start their
// goroutines.
package concurrent

import "sync"

// Run runs f(0..n-1) on n goroutines released together (none starts before all exist),
// and waits for them.
func Run(n int, f func(i int)) {
	var ready, done sync.WaitGroup
	ready.Add(1)
	for i := range n {
		done.Go(func() {
			ready.Wait()
			f(i)
		})
	}
	ready.Done()
	done.Wait()
}
