package memory_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/verifykit/verifykit/adapters/memory"
	"github.com/verifykit/verifykit/ports"
)

func TestSMSOutboxLimit(t *testing.T) {
	ctx := context.Background()
	msg := func(to string, i int) ports.Message {
		return ports.Message{To: to, Body: fmt.Sprintf("m%d", i), IdempotencyKey: fmt.Sprintf("%s-%d", to, i)}
	}
	cases := []struct {
		name  string
		limit int
		sends int // to each of +1 and +2, alternating
		want  []string
	}{
		{name: "unbounded keeps all", limit: 0, sends: 3, want: []string{"m0", "m0", "m1", "m1", "m2", "m2"}},
		{name: "the latest per recipient", limit: 2, sends: 4, want: []string{"m2", "m2", "m3", "m3"}},
		{name: "under the bound", limit: 5, sends: 2, want: []string{"m0", "m0", "m1", "m1"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			o := memory.NewSMSOutbox()
			o.SetLimit(tc.limit)
			for i := range tc.sends {
				for _, to := range []string{"+1", "+2"} {
					require.NoError(t, o.SendSMS(ctx, msg(to, i)))
				}
			}
			var got []string
			for _, m := range o.Messages() {
				got = append(got, m.Body)
			}
			require.Equal(t, tc.want, got, "oldest first, across recipients")
			require.Len(t, o.Attempts(), len(tc.want))
			last, ok := o.Last("+2")
			require.True(t, ok)
			require.Equal(t, fmt.Sprintf("m%d", tc.sends-1), last.Body)
			require.NoError(t, o.SendSMS(ctx, msg("+2", tc.sends-1)), "a kept key is not delivered again")
			require.Len(t, o.Messages(), len(tc.want))
			o.Reset()
			require.Empty(t, o.Messages())
		})
	}
}

func TestSMSOutboxSetLimitTrims(t *testing.T) {
	ctx := context.Background()
	o := memory.NewSMSOutbox()
	for i := range 5 {
		require.NoError(t, o.SendSMS(ctx, ports.Message{To: "+1", Body: fmt.Sprint(i)}))
	}
	o.SetLimit(2)
	require.Equal(t, []ports.Message{{To: "+1", Body: "3"}, {To: "+1", Body: "4"}}, o.Messages())
	o.SetLimit(0)
	require.NoError(t, o.SendSMS(ctx, ports.Message{To: "+1", Body: "5"}))
	require.Len(t, o.Messages(), 3)
}
