// Baseline: the upstream calls of one POST /transfer made directly with undici, with no checks in
// between: identity, dataset, submission_id, create job, Globus transfer, PATCH. The floor for any proxy.
import type { Credentials } from '../../src/config/credentials.js'
import { Upstream } from './upstream.js'

export interface DirectSubmitOptions {
  globusUrl: string
  scicatUrl: string
  credentials: Credentials
  sourceCollection: string
  destinationCollection: string
  jobType: string
}

export class DirectSubmit {
  private readonly upstream: Upstream
  private globusToken = ''
  private serviceToken = ''

  constructor (private readonly o: DirectSubmitOptions) {
    this.upstream = new Upstream(o.globusUrl, o.scicatUrl)
  }

  async login (): Promise<void> {
    this.globusToken = await this.upstream.globusToken(this.o.credentials, 'urn:globus:auth:scope:transfer.api.globus.org:all')
    this.serviceToken = await this.upstream.scicatToken(this.o.credentials)
  }

  /** One transfer of the dataset's whole folder; resolves with the job id. */
  async submit (userToken: string, pid: string): Promise<string> {
    const { globusUrl, scicatUrl } = this.upstream
    const identity = await this.upstream.json<{ profile: { username: string; email: string } }>(
      'GET',
      `${scicatUrl}/api/v3/users/my/identity`,
      { token: userToken }
    )
    const dataset = await this.upstream.json<{ ownerGroup: string; sourceFolder: string }>(
      'GET',
      `${scicatUrl}/api/v3/datasets/${encodeURIComponent(pid)}`,
      { token: userToken }
    )
    const { value: submissionId } = await this.upstream.json<{ value: string }>('GET', `${globusUrl}/v0.10/submission_id`, {
      token: this.globusToken,
    })
    const destinationPath = `/archive/${pid.split('/').pop()}`
    const job = await this.upstream.json<{ id: string }>('POST', `${scicatUrl}/api/v4/jobs`, {
      token: this.serviceToken,
      body: {
        type: this.o.jobType,
        ownerGroup: dataset.ownerGroup,
        ownerUser: identity.profile.username,
        contactEmail: identity.profile.email,
        jobParams: {
          datasetList: [{ pid, files: [] }],
          sourceCollection: this.o.sourceCollection,
          destinationCollection: this.o.destinationCollection,
          sourcePath: dataset.sourceFolder,
          destinationPath,
          globusSubmissionId: submissionId,
        },
      },
    })
    const transfer = await this.upstream.json<{ task_id: string }>('POST', `${globusUrl}/v0.10/transfer`, {
      token: this.globusToken,
      body: {
        DATA_TYPE: 'transfer',
        submission_id: submissionId,
        source_endpoint: this.o.sourceCollection,
        destination_endpoint: this.o.destinationCollection,
        label: `SciCat job ${job.id}`,
        verify_checksum: true,
        DATA: [{ DATA_TYPE: 'transfer_item', source_path: dataset.sourceFolder, destination_path: destinationPath, recursive: true }],
      },
    })
    await this.upstream.json('PATCH', `${scicatUrl}/api/v4/jobs/${job.id}`, {
      token: this.serviceToken,
      body: {
        statusCode: 'submitted',
        statusMessage: `submitted to Globus as task ${transfer.task_id}`,
        jobResultObject: {
          globusTaskId: transfer.task_id,
          bytesTransferred: 0,
          filesTransferred: 0,
          filesTotal: 0,
          status: 'transferring',
          error: '',
        },
      },
    })
    return job.id
  }

  close (): Promise<void> {
    return this.upstream.close()
  }
}
