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
	"go.opentelemetry.io/otel/exporters/otlp/otlpmetric/otlpmetrichttp"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/exporters/stdout/stdoutmetric"
	"go.opentelemetry.io/otel/exporters/stdout/stdouttrace"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	vkotel "github.com/verifykit/verifykit/adapters/otel"
)

// otelExporter names where spans or metrics go.
type otelExporter string

// The exporters of -otel and of OTEL_TRACES_EXPORTER / OTEL_METRICS_EXPORTER.
const (
	exportNone   otelExporter = ""       // nothing is recorded
	exportStdout otelExporter = "stdout" // pretty-printed to stdout
	exportOTLP   otelExporter = "otlp"   // OTLP over HTTP (protobuf) to a collector
)

// otelMode is what -otel asks for, per signal:
//   - "stdout" prints spans and metrics to stdout, "otlp" sends them over OTLP/HTTP, "off"
//     records nothing;
//   - "" reads the standard OTEL_TRACES_EXPORTER and OTEL_METRICS_EXPORTER: "otlp",
//     "console" (stdout) or "none". Unset, a signal goes over OTLP when an OTLP endpoint is
//     configured (OTEL_EXPORTER_OTLP_ENDPOINT, or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT /
//     _METRICS_ENDPOINT for the one signal) and is off otherwise, so that a plain run does
//     not try to reach a collector on localhost that is not there.
//
// OTLP goes over HTTP with protobuf bodies: OTEL_EXPORTER_OTLP_PROTOCOL (or its per-signal
// form) may be unset or http/protobuf; grpc and http/json are refused. The exporters read
// the other OTEL_EXPORTER_OTLP_* variables themselves (headers, timeout, compression,
// certificates), and the SDK reads OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES,
// OTEL_TRACES_SAMPLER(_ARG), OTEL_BSP_* and OTEL_METRIC_EXPORT_INTERVAL.
func otelMode(flag string, getenv func(string) string) (traces, metrics otelExporter, err error) {
	switch flag {
	case "stdout":
		traces, metrics = exportStdout, exportStdout
	case "otlp":
		traces, metrics = exportOTLP, exportOTLP
	case "off":
		return exportNone, exportNone, nil
	case "":
		if traces, err = otelFromEnv(getenv, "OTEL_TRACES_EXPORTER", "TRACES"); err != nil {
			return exportNone, exportNone, err
		}
		if metrics, err = otelFromEnv(getenv, "OTEL_METRICS_EXPORTER", "METRICS"); err != nil {
			return exportNone, exportNone, err
		}
	default:
		return exportNone, exportNone, fmt.Errorf("-otel %q: want stdout, otlp or off", flag)
	}
	for _, signal := range []struct {
		exp  otelExporter
		name string
	}{{traces, "TRACES"}, {metrics, "METRICS"}} {
		if signal.exp != exportOTLP {
			continue
		}
		env, protocol := "OTEL_EXPORTER_OTLP_"+signal.name+"_PROTOCOL", ""
		if protocol = strings.TrimSpace(getenv(env)); protocol == "" {
			env, protocol = "OTEL_EXPORTER_OTLP_PROTOCOL", strings.TrimSpace(getenv("OTEL_EXPORTER_OTLP_PROTOCOL"))
		}
		if protocol != "" && protocol != "http/protobuf" {
			return exportNone, exportNone, fmt.Errorf("%s=%q: this server speaks OTLP over http/protobuf only", env, protocol)
		}
	}
	return traces, metrics, nil
}

// otelFromEnv reads the exporter of one signal from env (see otelMode).
func otelFromEnv(getenv func(string) string, env, signal string) (otelExporter, error) {
	switch v := strings.TrimSpace(getenv(env)); v {
	case "otlp":
		return exportOTLP, nil
	case "console":
		return exportStdout, nil
	case "none":
		return exportNone, nil
	case "":
		if strings.TrimSpace(getenv("OTEL_EXPORTER_OTLP_ENDPOINT")) != "" || strings.TrimSpace(getenv("OTEL_EXPORTER_OTLP_"+signal+"_ENDPOINT")) != "" {
			return exportOTLP, nil
		}
		return exportNone, nil
	default:
		return exportNone, fmt.Errorf("%s=%q: want otlp, console or none", env, v)
	}
}

// useOTel sets up OpenTelemetry as -otel asks (see otelMode): the providers, the
// Observer the services get (a.observer), the HTTP tracing (a.tracing), and a logger
// whose lines carry trace_id and span_id. Shutting the app down flushes the exporters.
// With telemetry off it returns logger and changes nothing.
func (a *app) useOTel(ctx context.Context, flag string, logger *slog.Logger) (*slog.Logger, error) {
	traces, metrics, err := otelMode(flag, os.Getenv)
	if err != nil || (traces == exportNone && metrics == exportNone) {
		return logger, err
	}
	res, err := resource.New(ctx, resource.WithAttributes(attribute.String("service.name", "verifykit-example-server")),
		resource.WithFromEnv(), resource.WithTelemetrySDK()) // OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES win
	if err != nil {
		return nil, fmt.Errorf("otel resource: %w", err)
	}
	var opts vkotel.Options
	var shutdowns []func(context.Context) error
	if traces != exportNone {
		var exp sdktrace.SpanExporter
		if traces == exportOTLP {
			exp, err = otlptracehttp.New(ctx) // OTEL_EXPORTER_OTLP_(TRACES_)ENDPOINT, _HEADERS, ...
		} else {
			exp, err = stdouttrace.New(stdouttrace.WithPrettyPrint())
		}
		if err != nil {
			return nil, fmt.Errorf("otel trace exporter: %w", err)
		}
		tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp), sdktrace.WithResource(res))
		opts.TracerProvider, shutdowns = tp, append(shutdowns, tp.Shutdown)
	}
	if metrics != exportNone {
		var exp sdkmetric.Exporter
		if metrics == exportOTLP {
			exp, err = otlpmetrichttp.New(ctx) // OTEL_EXPORTER_OTLP_(METRICS_)ENDPOINT, _HEADERS, ...
		} else {
			exp, err = stdoutmetric.New()
		}
		if err != nil {
			return nil, fmt.Errorf("otel metric exporter: %w", err)
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
