import { graphql } from './gql';

/** Every operation the chat sends, typed by graphql-codegen (`npm run codegen` writes ./gql). */

export const AgentsQuery = graphql(`
  query ChatAgents {
    agents(first: 50) {
      edges {
        node {
          id
          name
        }
      }
    }
  }
`);

export const CreateAgentMutation = graphql(`
  mutation ChatCreateAgent($input: CreateAgentInput!) {
    createAgent(input: $input) {
      agent {
        id
        name
      }
    }
  }
`);

export const HistoryQuery = graphql(`
  query ChatHistory($agentId: ID!) {
    agent(id: $agentId) {
      id
      tools {
        name
        builtIn
        toolType
      }
      pendingApproval {
        ...ChatMessage
      }
      messages(last: 50) {
        nodes {
          ...ChatMessage
        }
      }
    }
  }
`);

export const MessageFragment = graphql(`
  fragment ChatMessage on Message {
    __typename
    id
    messageType
    runId
    stepId
    otid
    ... on UserMessage {
      content
    }
    ... on AssistantMessage {
      content
    }
    ... on ReasoningMessage {
      reasoning
    }
    ... on ToolCallMessage {
      toolCall {
        toolCallId
        name
        arguments
      }
    }
    ... on ToolReturnMessage {
      toolCallId
      toolReturn
      status
    }
    ... on ApprovalRequestMessage {
      toolCalls {
        toolCallId
        name
        arguments
      }
    }
  }
`);

export const SendMessageMutation = graphql(`
  mutation ChatSend($input: SendMessageAsyncInput!) {
    sendMessageAsync(input: $input) {
      run {
        id
      }
    }
  }
`);

export const CancelRunMutation = graphql(`
  mutation ChatCancel($runId: ID!) {
    cancelRun(input: { runId: $runId }) {
      run {
        id
        status
      }
    }
  }
`);

export const RunEventsSubscription = graphql(`
  subscription ChatRunEvents($runId: ID!, $after: Int!) {
    runEvents(runId: $runId, after: $after) {
      __typename
      seq
      ... on MessageDeltaEvent {
        kind
        delta
        stepId
        toolCallId
        toolName
      }
      ... on MessageEvent {
        message {
          ...ChatMessage
        }
      }
      ... on StopReasonEvent {
        status
        stopReason
      }
      ... on UsageEvent {
        usage {
          promptTokens
          completionTokens
          totalTokens
          stepCount
        }
      }
      ... on ErrorEvent {
        code
        errorMessage: message
      }
    }
  }
`);

export const MemoryQuery = graphql(`
  query ChatMemory($agentId: ID!) {
    agent(id: $agentId) {
      id
      blocks {
        id
        label
        value
        limit
      }
    }
  }
`);

export const AgentEventsSubscription = graphql(`
  subscription ChatAgentEvents($agentId: ID!) {
    agentEvents(agentId: $agentId) {
      type
      blockIds
      runId
    }
  }
`);

export const FoldersQuery = graphql(`
  query ChatFolders {
    folders(first: 20) {
      edges {
        node {
          id
          name
        }
      }
    }
  }
`);

export const CreateFolderMutation = graphql(`
  mutation ChatCreateFolder($input: CreateFolderInput!) {
    createFolder(input: $input) {
      folder {
        id
        name
      }
    }
  }
`);

export const UploadFileMutation = graphql(`
  mutation ChatUpload($folderId: ID!, $file: Upload!) {
    uploadFile(input: { folderId: $folderId, file: $file }) {
      file {
        id
        fileName
        processingStatus
      }
    }
  }
`);

export const FileUpdatedSubscription = graphql(`
  subscription ChatFileUpdated($fileId: ID!) {
    fileUpdated(fileId: $fileId) {
      fileId
      deleted
      file {
        id
        fileName
        processingStatus
        chunksEmbedded
        totalChunks
        errorMessage
      }
    }
  }
`);

export const AttachFolderMutation = graphql(`
  mutation ChatAttachFolder($agentId: ID!, $folderId: ID!) {
    attachFolder(input: { agentId: $agentId, folderId: $folderId }) {
      agent {
        id
      }
    }
  }
`);
