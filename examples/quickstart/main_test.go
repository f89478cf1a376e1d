package main

import (
	"bytes"
	"context"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestDemos runs every flow of the quickstart, as `go run ./examples/quickstart` does.
func TestDemos(t *testing.T) {
	for _, d := range demos() {
		t.Run(d.title, func(t *testing.T) {
			var out bytes.Buffer
			require.NoError(t, d.run(context.Background(), &out))
			require.NotEmpty(t, out.String())
		})
	}
}
