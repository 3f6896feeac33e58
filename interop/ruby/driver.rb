# A peer for the interop tests: Sentry's Ruby SDK (sentry-ruby, Debian's
# ruby-sentry-ruby) over HTTP/1.1 on 127.0.0.1.
#
#   ruby driver.rb server PORT_FILE
#   ruby driver.rb client URL SAMPLE_RATE
#
# server: a Rack app behind the SDK's own middleware
# (Sentry::Rack::CaptureExceptions, which continues the request's
# sentry-trace with Sentry::Transaction.from_sentry_trace), run by WEBrick.
# The answer is one JSON line of what the SDK made of the request, and the
# sentry-trace the SDK would put on a call made from it. GET /_transactions
# answers the transactions the SDK has sent so far (their trace contexts,
# read back from the envelopes). SIGTERM stops it.
#
# client: starts a transaction as the head of a trace (sampled by
# SAMPLE_RATE) and makes one GET to URL with Net::HTTP, whose sentry-trace
# header the SDK's own Net::HTTP patch adds. Prints one JSON line: the head,
# the header sent (if any), the status and body of the answer, and the
# transactions the SDK sent.
#
# Nothing leaves the machine: the SDK's transport only records envelopes.
require "json"
require "net/http"
require "rack"
require "sentry-ruby"
require "webrick"

# The SDK's transport: the envelopes it would have sent, as sent.
class RecordingTransport < Sentry::Transport
  @@envelopes = Queue.new

  def send_data(data, _options = {})
    @@envelopes << data
  end

  # The trace context of every transaction in the envelopes so far.
  def self.transactions
    all = []
    all << @@envelopes.pop until @@envelopes.empty?
    all.each { |e| @@envelopes << e }
    all.flat_map do |envelope|
      lines = envelope.split("\n")
      lines.each_index.select { |i| i.odd? && i + 1 < lines.size }.filter_map do |i|
        next unless JSON.parse(lines[i])["type"] == "transaction"
        JSON.parse(lines[i + 1]).dig("contexts", "trace")
      end
    end
  end
end

def init_sdk(rate)
  Sentry.init do |config|
    # Not 127.0.0.1: the SDK adds no sentry-trace to requests to its DSN host.
    config.dsn = "http://0123456789abcdef0123456789abcdef@sentry.invalid/42"
    config.traces_sample_rate = rate
    config.release = "ruby-peer@1.0.0"
    config.background_worker_threads = 0 # send at once, on this thread
    config.transport.transport_class = RecordingTransport
    config.logger = Logger.new(nil)
  end
end

def view(span)
  { trace_id: span.trace_id, span_id: span.span_id,
    parent_span_id: span.parent_span_id, sampled: span.sampled }
end

def sdk_name
  "sentry.ruby #{Sentry::VERSION}"
end

def serve(port_file)
  init_sdk(1.0)
  app = lambda do |env|
    tx = Sentry.get_current_scope.get_span
    child = tx.start_child(op: "http.client")
    answer = view(tx).merge(
      sdk: sdk_name,
      incoming: { "sentry-trace" => env["HTTP_SENTRY_TRACE"] },
      outgoing: { "sentry-trace" => Sentry.get_current_client.generate_sentry_trace(child) }
    )
    child.finish
    [200, { "Content-Type" => "application/json" }, [JSON.generate(answer) + "\n"]]
  end
  traced = Sentry::Rack::CaptureExceptions.new(app)
  router = lambda do |env|
    if env["PATH_INFO"] == "/_transactions"
      [200, { "Content-Type" => "application/json" }, [JSON.generate(RecordingTransport.transactions)]]
    else
      traced.call(env)
    end
  end
  quiet = WEBrick::Log.new(File::NULL)
  Rack::Handler::WEBrick.run(router, Host: "127.0.0.1", Port: 0, Logger: quiet,
                                     AccessLog: []) do |server|
    port = server.listeners.first.addr[1]
    File.write("#{port_file}.tmp", "#{port}\n")
    File.rename("#{port_file}.tmp", port_file)
    %w[TERM INT].each { |sig| trap(sig) { server.shutdown } }
  end
end

def call(url, rate)
  init_sdk(rate)
  uri = URI(url)
  tx = Sentry.start_transaction(name: "checkout", op: "task")
  Sentry.get_current_scope.set_span(tx)
  req = Net::HTTP::Get.new(uri)
  res = Net::HTTP.start(uri.host, uri.port, open_timeout: 10, read_timeout: 10) do |http|
    http.request(req)
  end
  tx.finish
  answer = begin
    JSON.parse(res.body)
  rescue JSON::ParserError
    res.body
  end
  puts JSON.generate(
    sdk: sdk_name,
    head: view(tx).merge(sent: req["sentry-trace"]),
    status: res.code.to_i,
    answer: answer,
    transactions: RecordingTransport.transactions
  )
end

case ARGV
in ["server", port_file]
  serve(port_file)
in ["client", url, rate]
  call(url, Float(rate))
else
  warn "usage: ruby driver.rb server PORT_FILE | ruby driver.rb client URL SAMPLE_RATE"
  exit 2
end
