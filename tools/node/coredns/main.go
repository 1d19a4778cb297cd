// Command coredns is CoreDNS with only the plugins the local cluster's DNS
// uses, built by tools/node/provision.sh. Importing fewer plugins than the
// stock binary (no cloud DNS back ends, no etcd, no dnstap) keeps the cold
// build and the binary small; the Corefile that `modelops cluster up` writes
// (cli/modelops_cli/cluster/coredns.py) uses exactly these directives.
package main

import (
	"github.com/coredns/coredns/core/dnsserver"
	"github.com/coredns/coredns/coremain"

	_ "github.com/coredns/coredns/plugin/cache"
	_ "github.com/coredns/coredns/plugin/errors"
	_ "github.com/coredns/coredns/plugin/forward"
	_ "github.com/coredns/coredns/plugin/health"
	_ "github.com/coredns/coredns/plugin/kubernetes"
	_ "github.com/coredns/coredns/plugin/loadbalance"
	_ "github.com/coredns/coredns/plugin/log"
	_ "github.com/coredns/coredns/plugin/loop"
	_ "github.com/coredns/coredns/plugin/ready"
	_ "github.com/coredns/coredns/plugin/reload"
)

// directives must keep the relative order of CoreDNS's plugin.cfg: it is the
// order in which a query passes through the plugins, whatever the Corefile says.
var directives = []string{
	"reload",
	"ready",
	"health",
	"errors",
	"log",
	"loadbalance",
	"cache",
	"kubernetes",
	"loop",
	"forward",
}

func init() {
	dnsserver.Directives = directives
}

func main() {
	coremain.Run()
}
