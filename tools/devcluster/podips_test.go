package main

import (
	"fmt"
	"testing"

	"k8s.io/apimachinery/pkg/types"
)

// A node's pool hands out every address of its /23 but the network, the
// bridge and the broadcast, each once, and then says that none is free.
func TestPodIPPoolFillsItsCIDR(t *testing.T) {
	cidr := nodePodCIDR(3)
	pool := newPodIPPool(cidr)
	seen := map[string]bool{}
	for i := range podAddresses(cidr) {
		ip, err := pool.assign(types.UID(fmt.Sprint(i)), "")
		if err != nil {
			t.Fatalf("pod %d: %v", i, err)
		}
		if seen[ip] {
			t.Fatalf("pod %d: %s handed out twice", i, ip)
		}
		seen[ip] = true
	}
	if len(seen) != 509 || !seen["10.244.6.2"] || !seen["10.244.7.254"] || seen["10.244.7.255"] {
		t.Errorf("%d addresses, first and last of 10.244.6.0/23 %v %v, broadcast %v", len(seen), seen["10.244.6.2"], seen["10.244.7.254"], seen["10.244.7.255"])
	}
	if _, err := pool.assign("one more", ""); err == nil {
		t.Error("a full pool handed out an address")
	}
}
