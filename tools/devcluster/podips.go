package main

import (
	"fmt"
	"net/netip"
	"sync"

	"k8s.io/apimachinery/pkg/types"
)

// podIPPool hands out the addresses of one node's pod CIDR, one per pod UID.
type podIPPool struct {
	cidr  netip.Prefix
	mu    sync.Mutex
	byIP  map[string]types.UID
	byUID map[types.UID]string
}

func newPodIPPool(cidr netip.Prefix) *podIPPool {
	return &podIPPool{cidr: cidr, byIP: map[string]types.UID{}, byUID: map[types.UID]string{}}
}

// assign returns the pod's address. current is the address the pod already
// reports, kept so that a restarted simulator does not renumber running pods.
func (p *podIPPool) assign(uid types.UID, current string) (string, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if ip, ok := p.byUID[uid]; ok {
		return ip, nil
	}
	if current != "" {
		if owner, taken := p.byIP[current]; !taken || owner == uid {
			p.take(uid, current)
			return current, nil
		}
	}
	// The network address is not a pod's, the first host is the node's
	// bridge, the last address the broadcast.
	for addr := p.cidr.Addr().Next().Next(); p.cidr.Contains(addr.Next()); addr = addr.Next() {
		ip := addr.String()
		if _, taken := p.byIP[ip]; !taken {
			p.take(uid, ip)
			return ip, nil
		}
	}
	return "", fmt.Errorf("no free pod address in %s", p.cidr)
}

func (p *podIPPool) take(uid types.UID, ip string) {
	p.byIP[ip] = uid
	p.byUID[uid] = ip
}

// release frees the pod's address, if it had one.
func (p *podIPPool) release(uid types.UID) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if ip, ok := p.byUID[uid]; ok {
		delete(p.byIP, ip)
		delete(p.byUID, uid)
	}
}

// podAddresses is how many pods a node's pod CIDR can address.
func podAddresses(cidr netip.Prefix) int {
	return 1<<(cidr.Addr().BitLen()-cidr.Bits()) - 3
}
