package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/scheme"
	typedcorev1 "k8s.io/client-go/kubernetes/typed/core/v1"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/record"
	"k8s.io/utils/ptr"
)

const (
	// kubeletVersion is what simulated nodes report; it matches the control plane.
	kubeletVersion = "v1.37.2"
	// leaseDuration and leaseRenewInterval are a kubelet's defaults.
	leaseDuration      = 40 * time.Second
	leaseRenewInterval = 10 * time.Second
)

// simulatedNode is one node of the topology with the addresses the simulator gave it.
type simulatedNode struct {
	spec       NodeSpec
	internalIP string
	pods       *podIPPool
	recorder   record.EventRecorder
}

// NodeSimulator registers the topology's nodes, keeps their leases fresh and
// plays the kubelet for the pods bound to them.
type NodeSimulator struct {
	client      kubernetes.Interface
	nodes       map[string]*simulatedNode
	real        map[string]bool // the topology's real nodes: kept, not simulated
	order       []string
	broadcaster record.EventBroadcaster
	kubeletPort int
	pods        corelisters.PodLister // set by StartPods
}

// NewNodeSimulator prepares the nodes of topology, whose kubelet API is
// served on 127.0.0.1:kubeletPort; nothing is sent to the cluster until Register.
func NewNodeSimulator(client kubernetes.Interface, topology *Topology, kubeletPort int) (*NodeSimulator, error) {
	broadcaster := record.NewBroadcaster()
	sim := &NodeSimulator{client: client, nodes: map[string]*simulatedNode{}, real: map[string]bool{}, broadcaster: broadcaster, kubeletPort: kubeletPort}
	for i, spec := range topology.Nodes {
		if spec.Real {
			continue
		}
		sim.nodes[spec.Name] = &simulatedNode{
			spec:       spec,
			internalIP: fmt.Sprintf("10.240.0.%d", i+1),
			pods:       newPodIPPool(nodePodCIDR(i)),
			recorder:   broadcaster.NewRecorder(scheme.Scheme, corev1.EventSource{Component: "kubelet", Host: spec.Name}),
		}
		sim.order = append(sim.order, spec.Name)
	}
	for _, spec := range topology.realNodes() {
		sim.real[spec.Name] = true
	}
	return sim, nil
}

// Register creates or updates every node, marks it Ready and leaves it with
// exactly the taints the topology declares.
func (s *NodeSimulator) Register(ctx context.Context) error {
	s.broadcaster.StartRecordingToSink(&typedcorev1.EventSinkImpl{Interface: s.client.CoreV1().Events("")})
	if err := s.ensureLeaseNamespace(ctx); err != nil {
		return err
	}
	for _, name := range s.order {
		if err := s.registerNode(ctx, s.nodes[name]); err != nil {
			return fmt.Errorf("node %s: %w", name, err)
		}
	}
	return s.removeUndeclaredNodes(ctx)
}

// removeUndeclaredNodes deletes nodes that a reused --data-dir kept from an
// earlier nodes file: nothing would play their kubelet, yet they would look
// Ready and attract pods.
func (s *NodeSimulator) removeUndeclaredNodes(ctx context.Context) error {
	nodes, err := s.client.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
	if err != nil {
		return err
	}
	for _, node := range nodes.Items {
		if s.nodes[node.Name] != nil || s.real[node.Name] {
			continue
		}
		err := s.client.CoreV1().Nodes().Delete(ctx, node.Name, metav1.DeleteOptions{})
		if err != nil && !apierrors.IsNotFound(err) {
			return fmt.Errorf("removing node %s, absent from the nodes file: %w", node.Name, err)
		}
	}
	return nil
}

// RunHeartbeats renews every node's lease until ctx ends, as kubelets do.
func (s *NodeSimulator) RunHeartbeats(ctx context.Context) {
	wait.UntilWithContext(ctx, func(ctx context.Context) {
		for _, name := range s.order {
			if err := s.renewLease(ctx, name); err != nil && ctx.Err() == nil {
				fmt.Fprintf(os.Stderr, "devcluster: renewing the lease of node %s: %v\n", name, err)
			}
		}
	}, leaseRenewInterval)
}

// Shutdown stops sending events.
func (s *NodeSimulator) Shutdown() {
	s.broadcaster.Shutdown()
}

func (s *NodeSimulator) registerNode(ctx context.Context, node *simulatedNode) error {
	nodes := s.client.CoreV1().Nodes()
	desired := &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{Name: node.spec.Name, Labels: node.spec.labels()},
		Spec: corev1.NodeSpec{
			PodCIDR:  node.pods.cidr.String(),
			PodCIDRs: []string{node.pods.cidr.String()},
			Taints:   node.spec.Taints,
		},
	}
	current, err := nodes.Create(ctx, desired, metav1.CreateOptions{})
	if apierrors.IsAlreadyExists(err) {
		current, err = nodes.Get(ctx, node.spec.Name, metav1.GetOptions{})
		if err == nil {
			current.Labels = desired.Labels
			current.Spec.Taints = desired.Spec.Taints
			current, err = nodes.Update(ctx, current, metav1.UpdateOptions{})
		}
	}
	if err != nil {
		return err
	}

	current.Status = node.status(metav1.Now(), s.kubeletPort)
	current, err = nodes.UpdateStatus(ctx, current, metav1.UpdateOptions{})
	if err != nil {
		return err
	}
	// The TaintNodesByCondition admission plugin taints every new node
	// not-ready; the node lifecycle controller would lift that taint once the
	// node reports Ready, and the simulator does it in its place.
	if !sameTaints(current.Spec.Taints, node.spec.Taints) {
		current.Spec.Taints = node.spec.Taints
		if _, err := nodes.Update(ctx, current, metav1.UpdateOptions{}); err != nil {
			return err
		}
	}
	return s.renewLease(ctx, node.spec.Name)
}

// status is what a healthy kubelet reports for the node.
func (n *simulatedNode) status(now metav1.Time, kubeletPort int) corev1.NodeStatus {
	condition := func(conditionType corev1.NodeConditionType, status corev1.ConditionStatus, reason, message string) corev1.NodeCondition {
		return corev1.NodeCondition{Type: conditionType, Status: status, Reason: reason, Message: message, LastHeartbeatTime: now, LastTransitionTime: now}
	}
	machineID := stableID("machine", n.spec.Name)
	return corev1.NodeStatus{
		Capacity:    n.spec.Capacity,
		Allocatable: n.spec.allocatable(),
		Phase:       corev1.NodeRunning,
		Conditions: []corev1.NodeCondition{
			condition(corev1.NodeMemoryPressure, corev1.ConditionFalse, "KubeletHasSufficientMemory", "kubelet has sufficient memory available"),
			condition(corev1.NodeDiskPressure, corev1.ConditionFalse, "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
			condition(corev1.NodePIDPressure, corev1.ConditionFalse, "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
			condition(corev1.NodeReady, corev1.ConditionTrue, "KubeletReady", "kubelet is posting ready status (simulated by devcluster)"),
		},
		Addresses: []corev1.NodeAddress{
			{Type: corev1.NodeInternalIP, Address: n.internalIP},
			{Type: corev1.NodeHostName, Address: n.spec.Name},
			{Type: corev1.NodeInternalDNS, Address: "localhost"},
		},
		DaemonEndpoints: corev1.NodeDaemonEndpoints{KubeletEndpoint: corev1.DaemonEndpoint{Port: int32(kubeletPort)}},
		NodeInfo: corev1.NodeSystemInfo{
			MachineID:               machineID,
			SystemUUID:              machineID,
			BootID:                  stableID("boot", n.spec.Name),
			KernelVersion:           "6.1.0-devcluster",
			OSImage:                 "devcluster simulated node",
			ContainerRuntimeVersion: "containerd://2.1.0",
			KubeletVersion:          kubeletVersion,
			OperatingSystem:         "linux",
			Architecture:            "amd64",
		},
	}
}

func (s *NodeSimulator) ensureLeaseNamespace(ctx context.Context) error {
	namespace := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: corev1.NamespaceNodeLease}}
	_, err := s.client.CoreV1().Namespaces().Create(ctx, namespace, metav1.CreateOptions{})
	if apierrors.IsAlreadyExists(err) {
		return nil
	}
	return err
}

func (s *NodeSimulator) renewLease(ctx context.Context, nodeName string) error {
	leases := s.client.CoordinationV1().Leases(corev1.NamespaceNodeLease)
	now := metav1.NewMicroTime(time.Now())
	lease, err := leases.Get(ctx, nodeName, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		node, err := s.client.CoreV1().Nodes().Get(ctx, nodeName, metav1.GetOptions{})
		if err != nil {
			return err
		}
		lease = &coordinationv1.Lease{
			ObjectMeta: metav1.ObjectMeta{
				Name: nodeName,
				// Owned by the node, so deleting the node removes its lease.
				OwnerReferences: []metav1.OwnerReference{{APIVersion: "v1", Kind: "Node", Name: nodeName, UID: node.UID}},
			},
			Spec: coordinationv1.LeaseSpec{
				HolderIdentity:       ptr.To(nodeName),
				LeaseDurationSeconds: ptr.To(int32(leaseDuration / time.Second)),
				RenewTime:            &now,
			},
		}
		_, err = leases.Create(ctx, lease, metav1.CreateOptions{})
		return err
	}
	if err != nil {
		return err
	}
	lease.Spec.RenewTime = &now
	_, err = leases.Update(ctx, lease, metav1.UpdateOptions{})
	return err
}

// stableID derives a fixed hex identifier, so a node keeps its IDs across restarts.
func stableID(kind, name string) string {
	sum := sha256.Sum256([]byte(kind + "/" + name))
	return hex.EncodeToString(sum[:16])
}
