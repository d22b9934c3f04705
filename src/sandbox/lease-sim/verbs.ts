// The RBAC verb of each request the Lease simulator receives, so tests can hold it against deploy/kubernetes/role.yaml.

/** One request as RBAC sees it: the verb, the resource and, for a request on one object, its name. */
export interface RbacRequest {
  verb: string
  /** `leases` for coordination.k8s.io/v1 leases; else the request's path (no rule of the Role grants it). */
  resource: string
  namespace?: string
  name?: string
}

const leasePath = /^\/apis\/coordination\.k8s\.io\/v1\/namespaces\/([^/]+)\/leases(?:\/([^/]+))?\/?$/

/**
 * The verb as the API server's authorizer derives it from the HTTP method (Kubernetes docs,
 * "Authorization: Determine the Request Verb"): POST create; GET and HEAD get on one object,
 * list on a collection, watch with `watch=true`; PUT update; PATCH patch; DELETE delete on one
 * object, deletecollection on a collection.
 */
export function rbacRequest (method: string, url: URL): RbacRequest {
  const match = leasePath.exec(url.pathname)
  const name = match?.[2] === undefined ? undefined : decodeURIComponent(match[2])
  const watch = ['true', '1'].includes(url.searchParams.get('watch') ?? '')
  const verbs: Record<string, string> = {
    POST: 'create',
    GET: watch ? 'watch' : name ? 'get' : 'list',
    PUT: 'update',
    PATCH: 'patch',
    DELETE: name ? 'delete' : 'deletecollection',
  }
  verbs.HEAD = verbs.GET!
  return {
    verb: verbs[method.toUpperCase()] ?? method.toLowerCase(),
    resource: match ? 'leases' : url.pathname,
    ...(match ? { namespace: decodeURIComponent(match[1]!) } : {}),
    ...(name ? { name } : {}),
  }
}
