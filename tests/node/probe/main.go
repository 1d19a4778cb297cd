// Command probe is the node tests' container image: an HTTP server and the
// clients the tests run inside pods, in one static binary with no libc, no
// shell and no dependencies beyond Go's standard library.
//
// It is written in Go rather than C (like the pause image) because one of
// its jobs is an HTTPS client that verifies the API server's certificate
// against the ServiceAccount's CA, which Go's standard library provides.
//
//	probe serve            HTTP on :8080: / answers "<hostname> <path>", /healthz "ok"
//	probe get URL          GET URL, print the body; exit 1 unless 200
//	probe kubeapi PATH     GET https://kubernetes.default.svc/PATH with the pod's
//	                       ServiceAccount token, verifying the CA; exit 1 unless 200
//	probe lookup NAME      resolve NAME with the pod's resolv.conf, print the addresses
//	probe alloc MIB        allocate and touch MIB mebibytes, then wait for a signal
//	probe echo WORDS...    print WORDS and exit 0
package main

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"
)

const saDir = "/var/run/secrets/kubernetes.io/serviceaccount"

func main() {
	if len(os.Args) < 2 {
		fail("usage: probe serve|get|kubeapi|lookup|alloc|echo ...")
	}
	args := os.Args[2:]
	switch os.Args[1] {
	case "serve":
		serve()
	case "get":
		need(args, 1)
		get(http.DefaultClient, args[0], nil)
	case "kubeapi":
		need(args, 1)
		kubeapi(args[0])
	case "lookup":
		need(args, 1)
		lookup(args[0])
	case "alloc":
		need(args, 1)
		alloc(args[0])
	case "echo":
		fmt.Println(strings.Join(args, " "))
	default:
		fail("unknown command " + os.Args[1])
	}
}

func need(args []string, n int) {
	if len(args) < n {
		fail(fmt.Sprintf("%s needs %d argument(s)", os.Args[1], n))
	}
}

func fail(message string) {
	fmt.Fprintln(os.Stderr, "probe:", message)
	os.Exit(1)
}

// waitForSignal returns on SIGTERM or SIGINT: as PID 1 the process gets no
// default handlers, and a pod that ignores SIGTERM takes its whole grace
// period to delete.
func waitForSignal() {
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, syscall.SIGINT)
	<-stop
}

func serve() {
	hostname, _ := os.Hostname()
	mux := http.NewServeMux()
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "%s %s\n", hostname, r.URL.Path)
	})
	server := &http.Server{Addr: ":8080", Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		fmt.Println("probe: serving on :8080 as", hostname)
		if err := server.ListenAndServe(); err != nil && err != http.ErrServerClosed {
			fail(err.Error())
		}
	}()
	waitForSignal()
	fmt.Println("probe: stopping")
	server.Close()
}

func get(client *http.Client, url string, header http.Header) {
	request, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		fail(err.Error())
	}
	for key, values := range header {
		request.Header[key] = values
	}
	client.Timeout = 10 * time.Second
	response, err := client.Do(request)
	if err != nil {
		fail(err.Error())
	}
	defer response.Body.Close()
	body, _ := io.ReadAll(response.Body)
	os.Stdout.Write(body)
	if response.StatusCode != http.StatusOK {
		fail(fmt.Sprintf("%s: HTTP %d", url, response.StatusCode))
	}
}

func kubeapi(path string) {
	token, err := os.ReadFile(saDir + "/token")
	if err != nil {
		fail(err.Error())
	}
	caPEM, err := os.ReadFile(saDir + "/ca.crt")
	if err != nil {
		fail(err.Error())
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(caPEM) {
		fail("no certificate in " + saDir + "/ca.crt")
	}
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	header := http.Header{"Authorization": {"Bearer " + strings.TrimSpace(string(token))}}
	get(client, "https://kubernetes.default.svc/"+strings.TrimPrefix(path, "/"), header)
}

func lookup(name string) {
	addresses, err := net.LookupHost(name)
	if err != nil {
		fail(err.Error())
	}
	fmt.Println(strings.Join(addresses, " "))
}

func alloc(mib string) {
	n, err := strconv.Atoi(mib)
	if err != nil || n <= 0 {
		fail("alloc needs a positive number of MiB")
	}
	// Touch every page so the memory is really charged to the cgroup.
	block := make([]byte, n<<20)
	for i := 0; i < len(block); i += 4096 {
		block[i] = 1
	}
	fmt.Println("probe: allocated", n, "MiB")
	waitForSignal()
	fmt.Println(len(block))
}
