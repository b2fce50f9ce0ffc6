# pitr — see README.md.
GO ?= go
BIN := bin/pitr

.PHONY: build test corpus-note test-short fixtures golden charsets bench lint fuzz clean

# Quiet, so that `make build && bin/pitr replay ... > out.sql` leaves only SQL in out.sql.
build:
	@$(GO) build -o $(BIN) ./cmd/pitr

# Everything, including the tests that start throwaway MariaDB servers. CI runs this. The first
# line says once whether the binlog corpus is there (go test shows a skip only under -v); it
# looks as internal/corpustest does: PITR_CORPUS, else shared/corpus beside a parent folder.
test: corpus-note
	$(GO) vet ./...
	$(GO) test -count=1 -timeout 15m ./...

corpus-note:
	@d="$${PITR_CORPUS:-}"; p="$$(pwd)"; while [ -z "$$d" ] && [ "$$p" != / ]; do p="$$(dirname "$$p")"; \
	  if [ -d "$$p/shared/corpus" ]; then d="$$p/shared/corpus"; fi; done; \
	  if [ -n "$$d" ]; then echo "binlog corpus: $$d (decoded by TestCorpus)"; \
	  else echo "note: no binlog corpus (shared/corpus beside the checkout or a parent folder, or PITR_CORPUS): TestCorpus is skipped"; fi

# Without the real-server tests.
test-short:
	$(GO) test -short ./...

# Regenerate the fixture binlogs from testdata/*/setup.sql on a throwaway server, then the golden SQL.
fixtures:
	$(GO) run ./internal/fixturegen -testdata testdata
	$(MAKE) golden

# Regenerate pkg/restore's charset tables (collation ids, and which bytes of each charset the server
# converts to Unicode and back unchanged) from a throwaway server.
charsets:
	$(GO) run ./internal/charsetgen -o pkg/restore

golden:
	$(GO) test ./pkg/restore -run TestGolden -update
	$(GO) test ./cmd/pitr -run TestCLIGolden -update

# Times pitr replay against mariadb-binlog on a ~330 MB binlog made on a throwaway server (cached in
# $TMPDIR/pitr-bench; BENCHFLAGS=-regen makes it again). Writes bench-results.txt there.
bench: build
	$(GO) run ./internal/benchgen -pitr $(BIN) $(BENCHFLAGS)

fuzz:
	$(GO) test ./pkg/binlog -run '^$$' -fuzz FuzzSource -fuzztime 60s

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

clean:
	rm -rf bin
