import { useState } from 'react';
import { useMutation, useQuery, useSubscription } from 'urql';
import { AttachFolderMutation, CreateFolderMutation, FileUpdatedSubscription, FoldersQuery, UploadFileMutation } from '../documents';

const FOLDER_NAME = 'chat uploads';

/** Upload a file to the agent's folder and watch it being parsed, chunked and embedded. */
export function FilesPanel(props: { agentId: string }) {
  const [{ data: folders }, refetchFolders] = useQuery({ query: FoldersQuery });
  const [, createFolder] = useMutation(CreateFolderMutation);
  const [, attachFolder] = useMutation(AttachFolderMutation);
  const [, upload] = useMutation(UploadFileMutation);
  const [uploaded, setUploaded] = useState<{ id: string; fileName: string; processingStatus: string }>();
  const [error, setError] = useState<string>();

  const folderId = async (): Promise<string | undefined> => {
    const existing = folders?.folders.edges.map((edge) => edge.node).find((folder) => folder.name === FOLDER_NAME);
    if (existing) return existing.id;
    const created = await createFolder({ input: { name: FOLDER_NAME } });
    refetchFolders({ requestPolicy: 'network-only' });
    return created.data?.createFolder.folder.id;
  };

  const send = async (file: File) => {
    setError(undefined);
    const folder = await folderId();
    if (!folder) return setError('could not create the folder');
    await attachFolder({ agentId: props.agentId, folderId: folder });
    const result = await upload({ folderId: folder, file });
    const stored = result.data?.uploadFile.file;
    if (stored) setUploaded(stored);
    else setError(result.error?.message ?? 'upload failed');
  };

  return (
    <section className="files" aria-label="Files">
      <h2>Files</h2>
      <input
        aria-label="Upload a file"
        type="file"
        onChange={(event) => {
          const file = event.target.files?.[0];
          if (file) void send(file);
          event.target.value = '';
        }}
      />
      {uploaded && <FileProgress key={uploaded.id} uploaded={uploaded} />}
      {error && <p className="error">{error}</p>}
    </section>
  );
}

/** The file as the upload returned it (PENDING), then as each fileUpdated event shows it. */
function FileProgress(props: { uploaded: { id: string; fileName: string; processingStatus: string } }) {
  const [{ data }] = useSubscription({ query: FileUpdatedSubscription, variables: { fileId: props.uploaded.id } });
  const file = data?.fileUpdated.file ?? { ...props.uploaded, totalChunks: null, chunksEmbedded: null, errorMessage: null };
  const chunks = file.totalChunks ? ` ${file.chunksEmbedded ?? 0}/${file.totalChunks} chunks` : '';
  return (
    <p className="file-progress" data-status={file.processingStatus}>
      {file.fileName}: <span data-testid="file-status">{file.processingStatus}</span>
      {chunks}
      {file.errorMessage && <span className="error"> {file.errorMessage}</span>}
    </p>
  );
}
