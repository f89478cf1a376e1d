package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/stdout/stdoutmetric"
	"go.opentelemetry.io/otel/exporters/stdout/stdouttrace"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	vkotel "github.com/verifykit/verifykit/adapters/otel"
)

// otelMode is what -otel asks for: "stdout" prints spans and metrics to stdout, "off"
// records nothing; "" reads the standard OTEL_TRACES_EXPORTER and OTEL_METRICS_EXPORTER
// ("console" is stdout, "none" or unset is off). OTLP is not built into this example
// (it would need the OTLP exporters): "otlp" is refused. The SDK reads the other standard
// variables itself: OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES, OTEL_TRACES_SAMPLER(_ARG),
// OTEL_BSP_*, OTEL_METRIC_EXPORT_INTERVAL.
func otelMode(flag string) (traces, metrics bool, err error) {
	switch flag {
	case "stdout":
		return true, true, nil
	case "off":
		return false, false, nil
	case "":
	default:
		return false, false, fmt.Errorf("-otel %q: want stdout or off", flag)
	}
	pick := func(env string) (bool, error) {
		switch v := strings.TrimSpace(os.Getenv(env)); v {
		case "console":
			return true, nil
		case "", "none":
			return false, nil
		default:
			return false, fmt.Errorf("%s=%q: this example has the console exporter only (otlp needs the OTLP exporters); use console or none", env, v)
		}
	}
	if traces, err = pick("OTEL_TRACES_EXPORTER"); err != nil {
		return false, false, err
	}
	metrics, err = pick("OTEL_METRICS_EXPORTER")
	return traces, metrics, err
}

// useOTel sets up OpenTelemetry as -otel asks (see otelMode): the providers, the
// Observer the services get (a.observer), the HTTP tracing (a.tracing), and a logger
// whose lines carry trace_id and span_id. Shutting the app down flushes the exporters.
// With telemetry off it returns logger and changes nothing.
func (a *app) useOTel(ctx context.Context, flag string, logger *slog.Logger) (*slog.Logger, error) {
	traces, metrics, err := otelMode(flag)
	if err != nil || (!traces && !metrics) {
		return logger, err
	}
	res, err := resource.New(ctx, resource.WithAttributes(attribute.String("service.name", "verifykit-example-server")),
		resource.WithFromEnv(), resource.WithTelemetrySDK()) // OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES win
	if err != nil {
		return nil, fmt.Errorf("otel resource: %w", err)
	}
	var opts vkotel.Options
	var shutdowns []func(context.Context) error
	if traces {
		exp, err := stdouttrace.New(stdouttrace.WithPrettyPrint())
		if err != nil {
			return nil, err
		}
		tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp), sdktrace.WithResource(res))
		opts.TracerProvider, shutdowns = tp, append(shutdowns, tp.Shutdown)
	}
	if metrics {
		exp, err := stdoutmetric.New()
		if err != nil {
			return nil, err
		}
		mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewPeriodicReader(exp)), sdkmetric.WithResource(res))
		opts.MeterProvider, shutdowns = mp, append(shutdowns, mp.Shutdown)
	}
	obs, err := vkotel.New(opts)
	if err != nil {
		return nil, err
	}
	a.observer, a.tracing = obs, vkotel.NewHTTPTracing(opts)
	closePrev := a.close
	a.close = func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		var errs []error
		for _, shutdown := range shutdowns {
			errs = append(errs, shutdown(ctx))
		}
		if err := errors.Join(errs...); err != nil {
			logger.Warn("otel shutdown", slog.String("error", err.Error()))
		}
		closePrev()
	}
	return slog.New(vkotel.NewLogHandler(logger.Handler())), nil
}
