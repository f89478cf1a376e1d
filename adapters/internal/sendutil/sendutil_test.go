package sendutil_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/time/rate"

	"github.com/verifykit/verifykit/adapters/internal/sendutil"
)

func TestRetryAfter(t *testing.T) {
	now := time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		in   string
		want time.Duration
	}{
		{"", 0}, {"30", 30 * time.Second}, {"-1", 0}, {"soon", 0},
		{now.Add(time.Minute).Format(http.TimeFormat), time.Minute},
		{now.Add(-time.Minute).Format(http.TimeFormat), 0},
	} {
		require.Equal(t, tc.want, sendutil.RetryAfter(tc.in, now), tc.in)
	}
}

func TestPaceAndSleepEndWithTheContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	l := rate.NewLimiter(rate.Every(time.Hour), 1)
	require.NoError(t, sendutil.Pace(context.Background(), l, "x"), "the burst")
	err := sendutil.Pace(ctx, l, "twilio")
	require.ErrorIs(t, err, context.Canceled)
	require.ErrorContains(t, err, "twilio: waiting for the send pace")
	require.NoError(t, sendutil.Pace(ctx, nil, "x"), "no limiter: no wait")
	require.ErrorIs(t, sendutil.Sleep(ctx, time.Hour), context.Canceled)
	require.NoError(t, sendutil.Sleep(context.Background(), 0))
}
