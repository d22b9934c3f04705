// Public types of the SciCat simulator: seeded users and datasets, job types, the stored job.
import type { Clock } from '../sim-core.js'

export interface SimUser {
  username: string
  /** Without a password the user cannot log in; tokens can still be issued with issueToken. */
  password?: string
  email: string
  /** SciCat's currentGroups: role names and profile.accessGroups in one list. */
  groups: string[]
  displayName?: string
  /** The identity endpoint answers 200 with an empty body. */
  noIdentity?: boolean
}

export interface SimDataset {
  pid: string
  ownerGroup: string
  accessGroups?: string[]
  sourceFolder: string
  isPublished?: boolean
  size?: number
  /** E-mails the dataset is shared with (they may read it). */
  sharedWith?: string[]
  datasetlifecycle?: Record<string, unknown>
  /** Simulator only, never returned: the file paths of the dataset's origdatablocks. */
  origDatablockFiles?: string[]
  [key: string]: unknown
}

/** One dataFileList entry, as scicat-cli's file walk registers it (src/common/schemas/datafile.schema.ts). */
export interface SimDataFile {
  path: string
  size: number
  time: string
  uid?: string
  gid?: string
  /** Go's FileMode.String(): "drwxr-xr-x" for a directory, "Lrwxrwxrwx" for a symlink. */
  perm?: string
  chk?: string
}

/** An original datablock as SciCat stores it (src/origdatablocks/schemas/origdatablock.schema.ts). */
export interface OrigDatablock {
  _id: string
  datasetId: string
  size: number
  chkAlg?: string
  dataFileList: SimDataFile[]
  ownerGroup: string
  accessGroups: string[]
  isPublished: boolean
  createdBy: string
  updatedBy: string
  createdAt: string
  updatedAt: string
  __v: number
}

/** '#all' | '#authenticated' | '#datasetPublic' | '#datasetAccess' | '#datasetOwner' | '#jobAdmin' | '#jobOwnerUser' | '#jobOwnerGroup' | '@group' | 'username' */
export interface JobAuth {
  create: string
  update: string
}

export interface JobTypeConfig extends JobAuth {
  /** A validate action requiring `datasetlifecycle.archivable` true on every dataset. */
  requireArchivable?: boolean
  /** A validate action requiring `jobParams.datasetList` in the request. */
  requireDatasetList?: boolean
}

export interface ScicatSimOptions {
  clock?: Clock
  users?: SimUser[]
  datasets?: SimDataset[]
  /** ADMIN_GROUPS (default ['admin']). */
  adminGroups?: string[]
  /** DELETE_JOB_GROUPS (default ['admin']); matched as substrings, as SciCat does. */
  deleteJobGroups?: string[]
  /** CREATE_JOB_PRIVILEGED_GROUPS (default []); matched as substrings. */
  createJobPrivilegedGroups?: string[]
  /** UPDATE_JOB_PRIVILEGED_GROUPS (default []); matched as substrings. */
  updateJobPrivilegedGroups?: string[]
  /** UPDATE_DATASET_LIFECYCLE_GROUPS (default []); matched as substrings. */
  updateDatasetLifecycleGroups?: string[]
  /** Job configuration by job type (see DEFAULT_JOB_TYPES). */
  jobTypes?: Record<string, JobTypeConfig>
  /** The job configuration's configVersion, copied into every new job. */
  configVersion?: string
  /** JWT_EXPIRES_IN in seconds (default 3600). */
  jwtExpiresInSeconds?: number
}

/** A job document as SciCat stores and returns it. */
export interface Job {
  _id: string
  id: string
  type: string
  /** Absent only on anonymous jobs of a '#all' type. */
  ownerGroup: string
  accessGroups: string[]
  isPublished: boolean
  ownerUser?: string
  contactEmail: string
  statusCode: string
  statusMessage: string
  configVersion: string
  jobParams: Record<string, unknown>
  jobResultObject: Record<string, unknown>
  createdBy: string
  updatedBy: string
  createdAt: string
  updatedAt: string
  __v: number
}

/** The authenticated caller of a request; null means anonymous. */
export interface Caller {
  user: SimUser
  groups: string[]
}
