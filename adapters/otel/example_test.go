package otel_test

import (
	"context"
	"fmt"
	"sort"

	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/verifykit/verifykit"
	"github.com/verifykit/verifykit/adapters/memory"
	vkotel "github.com/verifykit/verifykit/adapters/otel"
	"github.com/verifykit/verifykit/otp"
)

// The host builds its providers (here: an in-memory span recorder and a manual metric
// reader; in production, exporters) and gives the Observer to every service it builds.
func Example() {
	ctx := context.Background()
	spans := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spans))
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	obs, err := vkotel.New(vkotel.Options{TracerProvider: tp, MeterProvider: mp})
	if err != nil {
		panic(err)
	}

	cfg := otp.DefaultConfig()
	cfg.Secrets = [][]byte{[]byte("an example secret of 32 bytes...")}
	codes, err := otp.NewService(otp.Deps{
		Store: memory.NewOTPStore(), SMS: memory.NewSMSOutbox(), Limiter: memory.NewRateLimiter(),
		Observer: obs, // traces and metrics
	}, cfg)
	if err != nil {
		panic(err)
	}
	if _, err := codes.Issue(ctx, otp.IssueRequest{Purpose: "login", Subject: "user-1", Recipient: "+380931234585"}); err != nil {
		panic(err)
	}
	_, err = codes.Verify(ctx, otp.VerifyRequest{Purpose: "login", Subject: "user-1", Code: "000000"})
	fmt.Println("verify:", verifykit.KindOf(err), otp.FailureReason(err))

	for _, s := range spans.Ended() {
		if !s.Parent().IsValid() {
			fmt.Printf("span %s %s %q\n", s.Name(), s.Status().Code, s.Status().Description)
		}
	}
	var rm metricdata.ResourceMetrics
	if err := reader.Collect(ctx, &rm); err != nil {
		panic(err)
	}
	var names []string
	for _, m := range rm.ScopeMetrics[0].Metrics {
		names = append(names, m.Name)
	}
	sort.Strings(names)
	fmt.Println(names)
	// Output:
	// verify: invalid_input wrong_code
	// span verifykit.otp.Issue Unset ""
	// span verifykit.otp.Verify Error "verifykit: invalid_input"
	// [verifykit.codes.failed verifykit.codes.issued verifykit.delivery.duration verifykit.messages.sent verifykit.operation.duration]
}
