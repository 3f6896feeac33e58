// A peer for the interop tests: Sentry's Go SDK (github.com/getsentry/sentry-go,
// Debian's golang-github-getsentry-sentry-go-dev) over HTTP/1.1 on 127.0.0.1.
//
//	driver server PORT_FILE
//	driver client URL SAMPLE_RATE
//
// server: every request goes through the SDK's own middleware (sentryhttp),
// which continues the request's sentry-trace (sentry.ContinueFromRequest);
// the answer is one JSON line of what the SDK made of it, and the sentry-trace
// of a child span the handler starts for a call of its own. GET /_transactions
// answers the transactions the SDK has sent so far (their trace contexts).
// SIGTERM stops it.
//
// client: starts a transaction as the head of a trace (sampled by
// SAMPLE_RATE), and from a child span makes one GET to URL carrying the
// child's sentry-trace, as this SDK's users do by hand (it has no outgoing
// instrumentation). Prints one JSON line: the head, the status and body of
// the answer, and the transaction the SDK sent.
//
// Nothing leaves the machine: the SDK's transport only records events.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/getsentry/sentry-go"
	sentryhttp "github.com/getsentry/sentry-go/http"
)

// recorder is the SDK's transport: it keeps the trace context of every
// transaction the SDK would have sent.
type recorder struct {
	mu  sync.Mutex
	txs []json.RawMessage
}

func (r *recorder) Configure(sentry.ClientOptions) {}
func (r *recorder) Flush(time.Duration) bool       { return true }
func (r *recorder) SendEvent(e *sentry.Event) {
	if e.Type != "transaction" {
		return
	}
	trace, err := json.Marshal(e.Contexts["trace"])
	if err != nil {
		return
	}
	r.mu.Lock()
	r.txs = append(r.txs, trace)
	r.mu.Unlock()
}

func (r *recorder) all() []json.RawMessage {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]json.RawMessage{}, r.txs...)
}

var transport = &recorder{}

func initSDK(rate float64) {
	err := sentry.Init(sentry.ClientOptions{
		Dsn:              "http://0123456789abcdef0123456789abcdef@127.0.0.1:9/42",
		TracesSampleRate: rate,
		Transport:        transport,
		Release:          "go-peer@1.0.0",
	})
	if err != nil {
		fail(err)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "driver:", err)
	os.Exit(1)
}

func sampled(s sentry.Sampled) interface{} {
	switch s {
	case sentry.SampledTrue:
		return true
	case sentry.SampledFalse:
		return false
	}
	return nil
}

// view is what the SDK made of a span, as the tests read it.
func view(s *sentry.Span) map[string]interface{} {
	parent := interface{}(nil)
	if s.ParentSpanID != (sentry.SpanID{}) {
		parent = s.ParentSpanID.String()
	}
	return map[string]interface{}{
		"trace_id":       s.TraceID.String(),
		"span_id":        s.SpanID.String(),
		"parent_span_id": parent,
		"sampled":        sampled(s.Sampled),
	}
}

func writeJSON(w io.Writer, v interface{}) {
	b, err := json.Marshal(v)
	if err != nil {
		fail(err)
	}
	w.Write(append(b, '\n'))
}

func serve(portFile string) {
	initSDK(1)
	mux := http.NewServeMux()
	mux.HandleFunc("/_transactions", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, transport.all())
	})
	mw := sentryhttp.New(sentryhttp.Options{})
	mux.Handle("/", mw.HandleFunc(func(w http.ResponseWriter, r *http.Request) {
		tx := sentry.TransactionFromContext(r.Context())
		child := tx.StartChild("http.client")
		answer := view(tx)
		answer["sdk"] = "sentry.go " + sentry.Version
		answer["incoming"] = map[string]string{"sentry-trace": r.Header.Get("sentry-trace")}
		answer["outgoing"] = map[string]string{"sentry-trace": child.ToSentryTrace()}
		child.Finish()
		w.Header().Set("Content-Type", "application/json")
		writeJSON(w, answer)
	}))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fail(err)
	}
	port := strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
	if err := os.WriteFile(portFile+".tmp", []byte(port+"\n"), 0o644); err != nil {
		fail(err)
	}
	if err := os.Rename(portFile+".tmp", portFile); err != nil {
		fail(err)
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, os.Interrupt)
	go func() {
		<-stop
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
	}()
	if err := srv.Serve(ln); err != http.ErrServerClosed {
		fail(err)
	}
}

func call(url string, rate float64) {
	initSDK(rate)
	tx := sentry.StartSpan(context.Background(), "task", sentry.TransactionName("checkout"))
	child := tx.StartChild("http.client")
	req, err := http.NewRequest("GET", url, nil)
	if err != nil {
		fail(err)
	}
	req.Header.Set("sentry-trace", child.ToSentryTrace())
	client := &http.Client{Timeout: 10 * time.Second}
	res, err := client.Do(req)
	if err != nil {
		fail(err)
	}
	body, err := io.ReadAll(res.Body)
	res.Body.Close()
	if err != nil {
		fail(err)
	}
	child.Finish()
	tx.Finish()
	answer := interface{}(string(body))
	if json.Valid(body) {
		answer = json.RawMessage(body)
	}
	head := view(tx)
	head["sent"] = req.Header.Get("sentry-trace")
	head["child_span_id"] = child.SpanID.String()
	writeJSON(os.Stdout, map[string]interface{}{
		"sdk":          "sentry.go " + sentry.Version,
		"head":         head,
		"status":       res.StatusCode,
		"answer":       answer,
		"transactions": transport.all(),
	})
}

func main() {
	switch {
	case len(os.Args) == 3 && os.Args[1] == "server":
		serve(os.Args[2])
	case len(os.Args) == 4 && os.Args[1] == "client":
		rate, err := strconv.ParseFloat(os.Args[3], 64)
		if err != nil {
			fail(err)
		}
		call(os.Args[2], rate)
	default:
		fmt.Fprintln(os.Stderr, "usage: driver server PORT_FILE | driver client URL SAMPLE_RATE")
		os.Exit(2)
	}
}
