// The form that starts a transfer: facilities the caller may use, a dataset PID, autoArchive.

export interface Facility {
  name: string
  direction: string
  source: boolean
  destination: boolean
}

export interface StartRequest {
  sourceFacility: string
  destFacility: string
  scicatPid: string
  collectionRootPath: string
  autoArchive: boolean
}

function options (select: HTMLSelectElement, names: string[]): void {
  const keep = select.value
  select.replaceChildren(
    ...names.map((name) => {
      const o = document.createElement('option')
      o.value = name
      o.textContent = name
      return o
    })
  )
  if (names.includes(keep)) select.value = keep
  select.disabled = names.length === 0
}

export class StartForm {
  constructor (private readonly form: HTMLFormElement) {}

  private field<T extends HTMLElement> (name: string): T {
    return this.form.elements.namedItem(name) as unknown as T
  }

  /** Fills the selects; returns why nothing can be started, or undefined. */
  setFacilities (facilities: Facility[]): string | undefined {
    const sources = facilities.filter((f) => f.source).map((f) => f.name)
    const destinations = facilities.filter((f) => f.destination).map((f) => f.name)
    options(this.field<HTMLSelectElement>('sourceFacility'), sources)
    options(this.field<HTMLSelectElement>('destFacility'), destinations)
    this.field<HTMLButtonElement>('start').disabled = !sources.length || !destinations.length
    if (!sources.length) return 'You may use no facility as the source of a transfer.'
    if (!destinations.length) return 'You may use no facility as the destination of a transfer.'
    return undefined
  }

  read (): StartRequest {
    return {
      sourceFacility: this.field<HTMLSelectElement>('sourceFacility').value,
      destFacility: this.field<HTMLSelectElement>('destFacility').value,
      scicatPid: this.field<HTMLInputElement>('scicatPid').value.trim(),
      collectionRootPath: this.field<HTMLInputElement>('collectionRootPath').value.trim() || '/',
      autoArchive: this.field<HTMLInputElement>('autoArchive').checked,
    }
  }

  busy (on: boolean): void {
    this.field<HTMLButtonElement>('start').disabled = on
  }

  clearPid (): void {
    this.field<HTMLInputElement>('scicatPid').value = ''
  }
}
