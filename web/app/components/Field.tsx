import { useId } from 'react';

/** A labelled input: the label is tied to the field for screen readers and keyboard use. */
export function Field(props: {
  label: string;
  name: string;
  type?: string;
  autoComplete?: string;
  required?: boolean;
  inputMode?: 'numeric' | 'text';
  defaultValue?: string;
  autoFocus?: boolean;
}) {
  const id = useId();
  const { label, type = 'text', required = true, ...rest } = props;
  return (
    <>
      <label htmlFor={id}>{label}</label>
      <input id={id} type={type} required={required} {...rest} />
    </>
  );
}

export function Alert({
  children,
  kind = 'error',
}: {
  children: React.ReactNode;
  kind?: 'error' | 'notice';
}) {
  return (
    <p className={kind} role={kind === 'error' ? 'alert' : 'status'}>
      {children}
    </p>
  );
}

export function Submit({ children }: { children: React.ReactNode }) {
  return (
    <button type="submit" className="primary">
      {children}
    </button>
  );
}
