// A kubeconfig pointing @kubernetes/client-node at a Lease simulator: one cluster, one token user, one context.
import yaml from 'js-yaml'

export function kubeconfigText (options: { server: string; token: string; namespace?: string }): string {
  return yaml.dump({
    apiVersion: 'v1',
    kind: 'Config',
    // @kubernetes/client-node speaks plain HTTP (the simulator on loopback) only with this set
    clusters: [{ name: 'lease-sim', cluster: { server: options.server, 'insecure-skip-tls-verify': true } }],
    users: [{ name: 'scicat-globus-proxy', user: { token: options.token } }],
    contexts: [
      {
        name: 'lease-sim',
        context: { cluster: 'lease-sim', user: 'scicat-globus-proxy', ...(options.namespace ? { namespace: options.namespace } : {}) },
      },
    ],
    'current-context': 'lease-sim',
  })
}
