package sendutil_test

import (
	"context"
	"errors"
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

func TestNewRetryDefaults(t *testing.T) {
	r := sendutil.NewRetry("x", nil, 0, 0, 0)
	require.Nil(t, r.Limiter)
	require.Equal(t, 2, r.Retries)
	require.Equal(t, 10*time.Second, r.MaxWait)
	require.Zero(t, sendutil.NewRetry("x", nil, 0, -1, 0).Retries, "negative: no retry")
	require.NotNil(t, sendutil.NewRetry("x", nil, 5, 0, 0).Limiter, "messages per second: a limiter")
}

func TestRetryDo(t *testing.T) {
	boom := errors.New("boom")
	r := sendutil.Retry{Retries: 2, MaxWait: time.Second, Who: "x"}
	cases := []struct {
		name      string
		fails     int // tries that fail before one succeeds
		wait      time.Duration
		retryable bool
		wantTries int
		wantErr   bool
	}{
		{"first try", 0, 0, true, 1, false},
		{"after two retries", 2, 0, true, 3, false},
		{"retries used up", 5, 0, true, 3, true},
		{"not retryable", 5, 0, false, 1, true},
		{"a wait past MaxWait", 5, time.Minute, true, 1, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			calls, failedTries := 0, 0
			tries, err := r.Do(context.Background(), func() error {
				calls++
				if calls <= tc.fails {
					return boom
				}
				return nil
			}, func(error, int) (time.Duration, bool) { return tc.wait, tc.retryable },
				func(n int, err error) { failedTries = n; require.ErrorIs(t, err, boom) })
			require.Equal(t, tc.wantTries, tries)
			require.Equal(t, tc.wantTries, calls)
			if tc.wantErr {
				require.ErrorIs(t, err, boom)
				require.Equal(t, tc.wantTries, failedTries, "failed hears of the final failure")
			} else {
				require.NoError(t, err)
				require.Zero(t, failedTries)
			}
		})
	}
}
